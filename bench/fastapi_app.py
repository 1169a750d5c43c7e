#!/usr/bin/python3
"""What users write instead of lossd: FastAPI + uvicorn + numpy, mse with its gradient.

Answers POST /v1/loss/mse with lossd's /v1 reply shape. Written the fast way a careful user
would: the body is read with Request.json() (no pydantic model per number), numpy computes,
one worker, no access log, uvloop + httptools (what `uvicorn[standard]` installs; --plain uses
asyncio + h11, what a bare `uvicorn` gives), and TCP_NODELAY on the listening socket (Linux
accepted sockets inherit it; asyncio sets it too) so Nagle's algorithm and delayed ACKs never
stall small replies.
Usage: /usr/bin/python3 bench/fastapi_app.py --port N [--plain]
"""
import argparse
import socket

import numpy as np
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/v1/loss/mse")
async def mse(request: Request):
    body = await request.json()
    p = np.asarray(body["predictions"], dtype=np.float64)
    y = np.asarray(body["targets"], dtype=np.float64)
    if p.shape != y.shape:
        return JSONResponse({"error": {"code": "shape_mismatch", "field": "targets"}}, 400)
    d = p - y
    out = {"loss": "mse", "reduction": "mean", "dtype": "float64",
           "value": float(np.mean(d * d)), "shape": [], "denominator": d.size}
    if body.get("gradient"):
        out["gradient"] = {"predictions": (d * (2.0 / d.size)).tolist()}
    return JSONResponse(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--plain", action="store_true", help="asyncio + h11 instead of uvloop + httptools")
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    loop, http = ("asyncio", "h11") if args.plain else ("uvloop", "httptools")
    config = uvicorn.Config(app, workers=1, log_level="warning", access_log=False, loop=loop,
                            http=http)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
