// Types of the lossd client (index.js).

export type FloatArray = Float32Array | Float64Array;
export type WireArray = Float32Array | Float64Array | Int32Array | BigInt64Array;
export type NestedNumbers = number | NestedNumbers[];
/** An input: a typed array (1-D), a typed array with its shape, or nested numbers. */
export type TensorInput = WireArray | { data: WireArray | number[]; shape?: number[] } | NestedNumbers;

export type Transport = "binary" | "json";
export type Dtype = "float32" | "float64";

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string | null;
  /** Seconds per request (default 60). */
  timeout?: number;
  /** "binary" (/v2 binary tensors, default) or "json" (/v1). */
  transport?: Transport;
}

export interface LossOptions {
  reduction?: "mean" | "sum" | "none" | "batchmean";
  gradient?: boolean;
  /** Compute precision; default float32 when every floating-point input is a Float32Array. */
  dtype?: Dtype | null;
  transport?: Transport | null;
}

export interface LossResult {
  /** Canonical loss name (an alias such as "MSELoss" answers "mse"). */
  loss: string;
  /** A number for mean/sum; a typed array for none; {real, fake} for GAN losses with none. */
  value: number | FloatArray | Record<string, FloatArray>;
  /** Shape of value ([] when reduced). */
  shape: number[] | Record<string, number[]>;
  /** Input name -> gradient, flat, in that input's shape. */
  gradient: Record<string, FloatArray>;
  /** What a mean divided by, else null. */
  denominator: number | null;
  reduction: string;
  dtype: Dtype;
}

/** A request lossd refused. `message` is the server's explanation. */
export class LossdError extends Error {
  constructor(status: number, code: string, message: string, field?: string | null);
  status: number;
  code: string;
  field: string | null;
}

export type LossEntry = string | ({ name: string } & Record<string, unknown>);

export class Client {
  constructor(url?: string, options?: ClientOptions);
  url: string;
  timeout: number;
  transport: Transport;
  loss(name: string, inputsAndParams?: Record<string, TensorInput | number | boolean | string>,
       options?: LossOptions): Promise<LossResult>;
  evaluate(losses: LossEntry[], inputsAndParams?: Record<string, TensorInput | number | boolean | string>,
           options?: Omit<LossOptions, "transport">): Promise<Array<LossResult | LossdError>>;
  batch(requests: Array<{ loss: string } & Record<string, unknown>>): Promise<Array<LossResult | LossdError>>;
  losses(): Promise<Array<Record<string, unknown>>>;
  /** Closes the idle kept-alive connections. */
  close(): void;
}
