// What the page knows about each loss beyond GET /v1/losses: its formula (per element unless
// it says otherwise; p = prediction, y = target), a small request body for "Try it", and,
// for the losses that can be swept along one prediction, the range the playground plots.
// The catalogue itself (inputs, parameters, defaults, aliases, reference) always comes from
// the server; a loss missing here still shows, with its formula marked as missing.
"use strict";

// Sweep ranges the playground uses: probabilities, logits / margins, regression errors.
const PROB = {from: 0.001, to: 0.999, target: 1};
const LOGIT = {from: -6, to: 6, target: 1};
const MARGIN = {from: -3, to: 3, target: 1};
const REGR = {from: -3, to: 3, target: 0};

window.LOSSD_LOSSES = {
  // ---- regression ----
  mse: {formula: "ℓ = (p − y)²",
        example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], gradient: true}, plot: REGR},
  mae: {formula: "ℓ = |p − y|",
        example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], gradient: true}, plot: REGR},
  mbe: {formula: "ℓ = y − p   (mean bias: mean(y − p))",
        example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2]}, plot: REGR},
  huber: {formula: "ℓ = ½(p − y)²  if |p − y| ≤ δ,  else δ·(|p − y| − ½δ)",
          example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], delta: 0.75, gradient: true},
          plot: REGR},
  smooth_l1: {formula: "ℓ = ½(p − y)²/β  if |p − y| < β,  else |p − y| − ½β",
              example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], beta: 0.5}, plot: REGR},
  log_cosh: {formula: "ℓ = log(cosh(p − y))",
             example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2]}, plot: REGR},
  mape: {formula: "ℓ = 100·|y − p| / max(|y|, 1e-7)",
         example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2]},
         plot: {from: -1, to: 3, target: 1}},
  msle: {formula: "ℓ = (log(1 + max(p, ε)) − log(1 + max(y, ε)))²,  ε = 1e-7",
         example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2]},
         plot: {from: 0, to: 5, target: 1}},
  quantile: {formula: "ℓ = max(q·(y − p), (q − 1)·(y − p))   (pinball)",
             example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], quantile: 0.9}, plot: REGR},
  poisson_nll: {formula: "ℓ = exp(p) − y·p  (log_input),  else p − y·log(p + eps);  " +
                         "full adds y·log y − y + ½·log(2πy) where y > 1",
                example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2]},
                plot: {from: -3, to: 3, target: 1}},
  gaussian_nll: {formula: "ℓ = ½·(log(max(var, eps)) + (p − y)² / max(var, eps))  (+ ½·log 2π if full)",
                 example: {predictions: [0.5, 1.5, 3], targets: [1, 1, 2], var: [0.5, 1, 2]},
                 plot: {...REGR, extra: {var: 1}}},
  // ---- classification ----
  bce: {formula: "ℓ = −w·[y·log p + (1 − y)·log(1 − p)],  logs clamped at −100",
        example: {predictions: [0.9, 0.2, 0.6], targets: [1, 0, 1], gradient: true}, plot: PROB},
  bce_with_logits: {formula: "ℓ = −w·[pos_weight·y·log σ(x) + (1 − y)·log(1 − σ(x))]",
                    example: {predictions: [2.2, -1.4, 0.4], targets: [1, 0, 1], pos_weight: [2]},
                    plot: LOGIT},
  focal: {formula: "ℓ = α_t·(1 − p_t)^γ·BCE(p, y),  p_t = p·y + (1 − p)(1 − y),  " +
                   "α_t = α·y + (1 − α)(1 − y)  (α < 0: α_t = 1, the seed's −(1 − p)^γ·log p)",
          example: {predictions: [0.9, 0.2, 0.6], targets: [1, 0, 1], gamma: 2, alpha: 0.25,
                    gradient: true},
          plot: PROB},
  sigmoid_focal: {formula: "focal with p = σ(x):  ℓ = α_t·(1 − p_t)^γ·BCE(σ(x), y)",
                  example: {predictions: [2.2, -1.4, 0.4], targets: [1, 0, 1]}, plot: LOGIT},
  cross_entropy: {formula: "ℓₙ = −Σ_c w_c·q_c·log softmax(xₙ)_c,  q = (1 − ε)·onehot(yₙ) + ε/C  " +
                           "(ε = label_smoothing; index targets: mean divides by Σ w_yₙ)",
                  example: {predictions: [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], targets: [0, 2],
                            label_smoothing: 0.1, gradient: true}},
  nll: {formula: "ℓₙ = −w_yₙ·x_{n, yₙ}   (x: log-probabilities)",
        example: {predictions: [[-0.2, -1.7, -3.2], [-3.1, -3.0, -0.1]], targets: [0, 2]}},
  kl_div: {formula: "ℓ = y·(log y − x)   (log_target: exp(y)·(y − x));  batchmean divides the sum by N",
           example: {predictions: [[-1.2, -0.4], [-0.7, -0.7]], targets: [[0.3, 0.7], [0.5, 0.5]],
                     reduction: "batchmean"},
           plot: {from: -5, to: 0, target: 0.5}},
  hinge: {formula: "ℓ = max(0, 1 − y·p),  y ∈ {−1, 1}",
          example: {predictions: [0.8, -0.3, 2.0], targets: [1, 1, -1], gradient: true},
          plot: MARGIN},
  squared_hinge: {formula: "ℓ = max(0, 1 − y·p)²,  y ∈ {−1, 1}",
                  example: {predictions: [0.8, -0.3, 2.0], targets: [1, 1, -1]}, plot: MARGIN},
  soft_margin: {formula: "ℓ = log(1 + exp(−y·x)),  y ∈ {−1, 1}",
                example: {predictions: [0.8, -0.3, 2.0], targets: [1, 1, -1]}, plot: MARGIN},
  categorical_hinge: {formula: "ℓₙ = max(0, 1 + max_c (1 − y_c)·p_c − Σ_c y_c·p_c)",
                      example: {predictions: [[0.8, 0.1, 0.1], [0.3, 0.5, 0.2]],
                                targets: [[1, 0, 0], [0, 0, 1]]}},
  multi_margin: {formula: "ℓₙ = Σ_{c ≠ yₙ} w_yₙ·max(0, margin − x_yₙ + x_c)^p / C",
                 example: {predictions: [[0.1, 0.2, 0.4], [0.8, 0.1, 0.3]], targets: [2, 0]}},
  multilabel_margin: {formula: "ℓₙ = Σ_{j ∈ yₙ} Σ_{i ∉ yₙ} max(0, 1 − (x_j − x_i)) / C   (yₙ: indices, −1 ends)",
                      example: {predictions: [[0.1, 0.2, 0.4, 0.8]], targets: [[3, 0, -1, 1]]}},
  multilabel_soft_margin: {formula: "ℓₙ = −(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)]",
                           example: {predictions: [[0.5, -1.0, 2.0]], targets: [[1, 0, 1]]}},
  // ---- pairs, ranking, embeddings ----
  margin_ranking: {formula: "ℓ = max(0, −y·(x1 − x2) + margin),  y ∈ {−1, 1}",
                   example: {x1: [0.8, 0.2], x2: [0.4, 0.5], targets: [1, -1], gradient: true}},
  hinge_embedding: {formula: "ℓ = p  if y = 1,  max(0, margin − p)  if y = −1",
                    example: {predictions: [0.3, 1.5, 0.2], targets: [1, -1, -1]},
                    plot: {from: -1, to: 3, target: -1}},
  cosine_embedding: {formula: "ℓ = 1 − cos(x1, x2)  if y = 1,  max(0, cos(x1, x2) − margin)  if y = −1",
                     example: {x1: [[1, 0], [0, 1]], x2: [[1, 1], [1, 0]], targets: [1, -1]}},
  contrastive: {formula: "ℓ = (1 − t)·d² + t·max(0, margin − d)²,  d = ‖x1 − x2 + eps‖₂,  t = 0: similar",
                example: {x1: [[1, 0], [0, 1]], x2: [[1, 0.5], [1, 0]], targets: [0, 1], margin: 2,
                          gradient: true}},
  triplet_margin: {formula: "ℓ = max(0, d(a, p) − d(a, n) + margin),  d(u, v) = ‖u − v + eps‖_p  " +
                            "(swap: d(a, n) := min(d(a, n), d(p, n)))",
                   example: {anchor: [[0, 0]], positive: [[0, 1]], negative: [[1, 1]], gradient: true}},
  ntxent: {formula: "ℓ_i = −log( exp(s_{i,j(i)}/τ) / Σ_{k ≠ i} exp(s_{i,k}/τ) ),  " +
                    "s: cosine similarities of the 2N rows, j(i): i's positive",
           example: {x1: [[1, 0], [0, 1]], x2: [[0.9, 0.1], [0.2, 0.8]], temperature: 0.5}},
  // ---- detection and segmentation ----
  box_iou: {formula: "ℓ = 1 − I/(U + eps)   (boxes x1, y1, x2, y2)",
            example: {predictions: [[0, 0, 2, 2]], targets: [[1, 0, 3, 2]], gradient: true}},
  giou: {formula: "ℓ = 1 − IoU + (|C| − U)/|C|,  C: the smallest box enclosing both",
         example: {predictions: [[0, 0, 2, 2]], targets: [[1, 1, 3, 4]]}},
  diou: {formula: "ℓ = 1 − IoU + ρ²/c²,  ρ: distance of the centres, c: diagonal of the enclosing box",
         example: {predictions: [[0, 0, 2, 2]], targets: [[1, 1, 3, 4]]}},
  ciou: {formula: "ℓ = 1 − IoU + ρ²/c² + α·v,  v = (4/π²)·(atan(w_gt/h_gt) − atan(w/h))²,  " +
                  "α = v/(1 − IoU + v)",
         example: {predictions: [[0, 0, 2, 2]], targets: [[1, 1, 3, 4]]}},
  mask_iou: {formula: "ℓₙ = 1 − (Σ p·y + s)/(Σ (p + y − p·y) + s)   (per sample)",
             example: {predictions: [[0.9, 0.8, 0.1, 0.2]], targets: [[1, 1, 0, 0]]}},
  dice: {formula: "ℓₙ = 1 − (2·Σ p·y + s)/(Σ p + Σ y + s)   (per sample)",
         example: {predictions: [[0.9, 0.8, 0.1, 0.2]], targets: [[1, 1, 0, 0]]}},
  tversky: {formula: "ℓₙ = (1 − (TP + s)/(TP + α·FP + β·FN + s))^γ,  TP = Σ p·y,  FP = Σ p·(1 − y),  " +
                     "FN = Σ (1 − p)·y",
            example: {predictions: [[0.9, 0.8, 0.1, 0.2]], targets: [[1, 1, 0, 0]], alpha: 0.3,
                      beta: 0.7}},
  // ---- GAN ----
  gan_discriminator: {formula: "ℓ = −log D(x) − log(1 − D(G(z)))   (from_logits: softplus(−real) + softplus(fake))",
                      example: {real: [0.9, 0.7], fake: [0.2, 0.4], gradient: true}},
  gan_generator: {formula: "ℓ = −log D(G(z))   (saturating: log(1 − D(G(z))))",
                  example: {fake: [0.2, 0.4], gradient: true},
                  plot: {from: 0.001, to: 0.999, input: "fake"}},
  wgan_critic: {formula: "ℓ = mean(fake) − mean(real)",
                example: {real: [1.5, 0.5], fake: [-0.5, 0.25]}},
  wgan_generator: {formula: "ℓ = −mean(fake)",
                   example: {fake: [-0.5, 0.25]}, plot: {from: -3, to: 3, input: "fake"}},
  lsgan_discriminator: {formula: "ℓ = ½·mean((real − 1)²) + ½·mean(fake²)",
                        example: {real: [0.9, 0.7], fake: [0.2, 0.4]}},
  lsgan_generator: {formula: "ℓ = ½·mean((fake − 1)²)",
                    example: {fake: [0.2, 0.4]}, plot: {from: -1, to: 3, input: "fake"}},
  // ---- sequence ----
  ctc: {formula: "ℓₙ = −log Σ_{π ∈ B⁻¹(yₙ)} Π_t p_t(π_t)   (mean: each divided by its target length, then averaged)",
        example: {predictions: [[[-1.2, -0.9, -1.2]], [[-0.7, -1.4, -1.3]], [[-1.1, -1.1, -1.1]]],
                  targets: [[1, 2]], input_lengths: [3], target_lengths: [2]}},
};

// Playground presets: one curve per parameter value, or several losses on one chart.
window.LOSSD_PRESETS = [
  {id: "focal-gamma", label: "focal: γ = 0, 0.5, 1, 2, 5 (the seed's plot)", loss: "focal",
   target: 1, vary: "gamma", values: [0, 0.5, 1, 2, 5], params: {alpha: -1}},
  {id: "huber-delta", label: "huber: δ = 0.25, 0.5, 1, 2", loss: "huber", target: 0,
   vary: "delta", values: [0.25, 0.5, 1, 2], params: {}},
  {id: "bce-vs-focal", label: "bce vs focal (γ = 2)", loss: "bce", target: 1, vary: "",
   values: [], params: {}, compare: [{loss: "focal", params: {gamma: 2, alpha: -1}}]},
  {id: "smooth-l1-beta", label: "smooth_l1: β = 0, 0.5, 1, 2", loss: "smooth_l1", target: 0,
   vary: "beta", values: [0, 0.5, 1, 2], params: {}},
  {id: "quantile-q", label: "quantile: q = 0.1, 0.5, 0.9", loss: "quantile", target: 0,
   vary: "quantile", values: [0.1, 0.5, 0.9], params: {}},
  {id: "hinge-family", label: "hinge vs squared_hinge vs soft_margin", loss: "hinge", target: 1,
   vary: "", values: [], params: {},
   compare: [{loss: "squared_hinge", params: {}}, {loss: "soft_margin", params: {}}]},
];
