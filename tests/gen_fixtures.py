#!/usr/bin/python3
"""Generate the golden fixtures of lossd: one JSON file per loss of LOSSES.md.

Run (Debian's interpreter, which has python3-torch 1.13 and torchvision 0.14):

    /usr/bin/python3 tests/gen_fixtures.py tests/fixtures

Deterministic: every loss uses its own fixed seed, so re-running gives the same
bytes. The truth is computed in torch.float64 (autograd) from the exact numbers
of the request; float32 cases first round every input and scalar parameter to
float32. Where lossd deliberately differs from PyTorch 1.13 (see LOSSES.md and
reference/losses-research.md) the formula is written here in float64 torch ops,
and cross-checked against the 1.13 function wherever the two must agree.
Every case marked "fd": true is also checked here with central differences.
See tests/fixtures/README.md for the file format.
"""
import copy
import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.ops as tvo

F64 = torch.float64
torch.set_default_dtype(F64)
NAN = float("nan")


# --------------------------------------------------------------------------
# helpers: stable primitives with the mathematically right gradient
# --------------------------------------------------------------------------
class _Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.clamp_min(0) + torch.log1p(torch.exp(-z.abs()))

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * torch.sigmoid(z)


def sp(z):
    """softplus(z) = log(1+e^z), exact for all z, gradient sigmoid(z)."""
    return _Softplus.apply(z)


def logsig(z):
    return -sp(-z)


class _AtanRatio(torch.autograd.Function):
    """atan(w/h) for w,h >= 0, as atan2(w,h): 0 for a 0x0 box, pi/2 for h=0<w.
    Gradient h/(w^2+h^2), -w/(w^2+h^2); 0 at w=h=0 (no NaN)."""

    @staticmethod
    def forward(ctx, w, h):
        ctx.save_for_backward(w, h)
        return torch.atan2(w, h)

    @staticmethod
    def backward(ctx, g):
        w, h = ctx.saved_tensors
        den = w * w + h * h
        ok = den > 0
        dens = torch.where(ok, den, torch.ones_like(den))
        gw = torch.where(ok, h / dens, torch.zeros_like(den))
        gh = torch.where(ok, -w / dens, torch.zeros_like(den))
        return g * gw, g * gh


def safe_pow(q, g):
    """q**g with q>=0; value/gradient are the limits at q=0 (no NaN for g<1)."""
    pos = q > 0
    qs = torch.where(pos, q, torch.ones_like(q))
    return torch.where(pos, qs ** g, torch.full_like(q, 1.0 if g == 0 else 0.0))


def xcheck(ours, ref, what, rtol=1e-10, atol=1e-12):
    """Assert our formula equals the PyTorch reference where both are finite."""
    o = ours.detach()
    r = ref.detach()
    m = torch.isfinite(o) & torch.isfinite(r)
    if not torch.allclose(o[m], r[m], rtol=rtol, atol=atol):
        raise AssertionError(f"cross-check {what}: {o} vs {r}")


# --------------------------------------------------------------------------
# evaluation context
# --------------------------------------------------------------------------
class Ctx:
    def __init__(self, req, grads):
        self.req = req
        self.grads = grads
        self.leaves = {}
        self.empty = False

    @property
    def red(self):
        return self.req.get("reduction", "mean")

    def f(self, name):
        t = torch.tensor(self.req[name], dtype=F64)
        if name in self.grads:
            t.requires_grad_(True)
            self.leaves[name] = t
        return t

    def i(self, name):
        return torch.tensor(self.req[name], dtype=torch.long)

    def p(self, name, default):
        return self.req.get(name, default)

    def w(self, name="weight"):
        if name in self.req:
            return torch.tensor(self.req[name], dtype=F64)
        return None


def reduce(c, l, w=None):
    """mean = sum/numel, or the true weighted mean sum(w*l)/sum(w)."""
    red = c.red
    if w is not None:
        l = w * l
    if red == "none":
        return l
    if red == "sum":
        return l.sum()
    if red == "mean":
        if l.numel() == 0:
            c.empty = True
            return l.sum()
        if w is not None:
            return l.sum() / torch.broadcast_to(w, l.shape).sum()
        return l.mean()
    raise ValueError(red)


# --------------------------------------------------------------------------
# the losses
# --------------------------------------------------------------------------
def L_mse(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, (p - y) ** 2, c.w())


def L_mae(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, (p - y).abs(), c.w())  # abs'(0) = 0


def L_mbe(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, y - p)


def L_huber(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, F.huber_loss(p, y, reduction="none", delta=c.p("delta", 1.0)), c.w())


def L_smooth_l1(c):
    p, y = c.f("predictions"), c.f("targets")
    beta = c.p("beta", 1.0)
    if beta == 0:
        l = (p - y).abs()  # 2.1+: beta=0 is L1, gradient 0 at d=0
    else:
        l = F.smooth_l1_loss(p, y, reduction="none", beta=beta)
    return reduce(c, l)


def L_log_cosh(c):
    p, y = c.f("predictions"), c.f("targets")
    d = p - y
    return reduce(c, d + sp(-2 * d) - math.log(2.0))


def L_mape(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, 100.0 * (y - p).abs() / y.abs().clamp_min(1e-7))


def L_msle(c):
    p, y = c.f("predictions"), c.f("targets")
    return reduce(c, (torch.log1p(p.clamp_min(1e-7)) - torch.log1p(y.clamp_min(1e-7))) ** 2)


def L_quantile(c):
    p, y = c.f("predictions"), c.f("targets")
    q = c.p("quantile", 0.5)
    d = y - p
    l = torch.where(d > 0, q * d, torch.where(d < 0, (q - 1) * d, 0 * d))
    return reduce(c, l)


def L_poisson_nll(c):
    p, y = c.f("predictions"), c.f("targets")
    l = F.poisson_nll_loss(p, y, log_input=c.p("log_input", True), full=c.p("full", False),
                           eps=c.p("eps", 1e-8), reduction="none")
    return reduce(c, l)


def L_gaussian_nll(c):
    p, y, v = c.f("predictions"), c.f("targets"), c.f("var")
    if p.numel() == 0:
        return reduce(c, (p - y) ** 2 * 0 + v.sum() * 0)
    l = F.gaussian_nll_loss(p, y, v, full=c.p("full", False), eps=c.p("eps", 1e-6), reduction="none")
    return reduce(c, l)


def L_bce(c):
    p, y = c.f("predictions"), c.f("targets")
    l = F.binary_cross_entropy(p, y, weight=c.w(), reduction="none")
    return reduce(c, l)  # mean(w*l): PyTorch's BCE weight is not normalised


def bcewl(x, y, pw=None):
    if pw is None:
        return (1 - y) * x + sp(-x)
    return (1 - y) * x + (1 + (pw - 1) * y) * sp(-x)


def L_bce_with_logits(c):
    x, y = c.f("predictions"), c.f("targets")
    w, pw = c.w(), c.w("pos_weight")
    l = bcewl(x, y, pw)
    if w is not None:
        l = w * l
    xcheck(l, F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction="none"),
           "bce_with_logits", rtol=1e-8, atol=1e-8)
    return reduce(c, l)


def L_cross_entropy(c):
    x = c.f("predictions")
    tgt = c.req["targets"]
    w = c.w()
    ls = c.p("label_smoothing", 0.0)
    ii = c.p("ignore_index", -100)
    index = (np.array(tgt).ndim == x.dim() - 1)
    if index:
        t = c.i("targets")
        if c.red == "mean" and int((t != ii).sum()) == 0:
            c.empty = True
    else:
        t = c.f("targets")
        if c.red == "mean" and (x.numel() == 0 or x.shape[1 if x.dim() > 1 else 0] == 0 or x.numel() // x.shape[1 if x.dim() > 1 else 0] == 0):
            c.empty = True
    return F.cross_entropy(x, t, weight=w, ignore_index=ii, reduction=c.red, label_smoothing=ls)


def L_nll(c):
    x = c.f("predictions")
    t = c.i("targets")
    ii = c.p("ignore_index", -100)
    if c.red == "mean" and int((t != ii).sum()) == 0:
        c.empty = True
    if x.dim() == 1:  # (C) with a 0-d target
        x2, t2 = x.unsqueeze(0), t.unsqueeze(0)
        r = F.nll_loss(x2, t2, weight=c.w(), ignore_index=ii, reduction=c.red)
        return r[0] if c.red == "none" else r
    return F.nll_loss(x, t, weight=c.w(), ignore_index=ii, reduction=c.red)


def L_kl_div(c):
    x, t = c.f("predictions"), c.f("targets")
    lt = c.p("log_target", False)
    l = F.kl_div(x, t, reduction="none", log_target=lt)
    if c.red == "batchmean":
        n = x.shape[0] if x.dim() > 0 else 1
        if n == 0:
            c.empty = True
            return l.sum()
        return l.sum() / n
    return reduce(c, l)


def focal_core(ce, p, y, alpha, gamma):
    p_t = p * y + (1 - p) * (1 - y)
    l = ce * safe_pow(1 - p_t, gamma)
    if alpha >= 0:
        l = (alpha * y + (1 - alpha) * (1 - y)) * l
    return l


def L_focal(c):
    p, y = c.f("predictions"), c.f("targets")
    ce = F.binary_cross_entropy(p, y, reduction="none")
    return reduce(c, focal_core(ce, p, y, c.p("alpha", 0.25), c.p("gamma", 2.0)))


def L_sigmoid_focal(c):
    x, y = c.f("predictions"), c.f("targets")
    alpha, gamma = c.p("alpha", 0.25), c.p("gamma", 2.0)
    l = focal_core(bcewl(x, y), torch.sigmoid(x), y, alpha, gamma)
    xcheck(l, tvo.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma), "sigmoid_focal", 1e-8, 1e-10)
    return reduce(c, l)


def hinge_targets(c):
    y = c.f("targets")
    if y.numel() and bool(((y == 0) | (y == 1)).all()):
        y = 2 * y - 1
    return y


def L_hinge(c):
    p = c.f("predictions")
    y = hinge_targets(c)
    return reduce(c, torch.clamp(1 - y * p, min=0))  # clamp passes the gradient at the tie


def L_squared_hinge(c):
    p = c.f("predictions")
    y = hinge_targets(c)
    return reduce(c, torch.clamp(1 - y * p, min=0) ** 2)


def L_categorical_hinge(c):
    p, y = c.f("predictions"), c.f("targets")
    pos = (y * p).sum(-1)
    neg = ((1 - y) * p).amax(-1)
    return reduce(c, torch.clamp(neg - pos + 1, min=0))


def L_multi_margin(c):
    x, t = c.f("predictions"), c.i("targets")
    return F.multi_margin_loss(x, t, p=c.p("p", 1), margin=c.p("margin", 1.0), weight=c.w(), reduction=c.red)


def L_multilabel_margin(c):
    x, t = c.f("predictions"), c.i("targets")
    return F.multilabel_margin_loss(x, t, reduction=c.red)


def L_soft_margin(c):
    x, y = c.f("predictions"), c.f("targets")
    l = sp(-y * x)
    xcheck(l, F.soft_margin_loss(x, y, reduction="none"), "soft_margin")
    return reduce(c, l)


def L_multilabel_soft_margin(c):
    x, y = c.f("predictions"), c.f("targets")
    l = -(y * logsig(x) + (1 - y) * logsig(-x))
    w = c.w()
    if w is not None:
        l = l * w
    l = l.sum(-1) / x.shape[-1]
    xcheck(l, F.multilabel_soft_margin_loss(x, y, weight=w, reduction="none"), "mlsm")
    return reduce(c, l)


def L_margin_ranking(c):
    a, b, y = c.f("x1"), c.f("x2"), c.f("targets")
    return reduce(c, F.margin_ranking_loss(a, b, y, margin=c.p("margin", 0.0), reduction="none"))


def L_hinge_embedding(c):
    x, y = c.f("predictions"), c.f("targets")
    return reduce(c, F.hinge_embedding_loss(x, y, margin=c.p("margin", 1.0), reduction="none"))


def L_cosine_embedding(c):
    a, b, y = c.f("x1"), c.f("x2"), c.f("targets")
    return reduce(c, F.cosine_embedding_loss(a, b, y, margin=c.p("margin", 0.0), reduction="none"))


def L_contrastive(c):
    a, b, t = c.f("x1"), c.f("x2"), c.f("targets")
    d = F.pairwise_distance(a, b, eps=c.p("eps", 1e-6))
    l = (1 - t) * d ** 2 + t * torch.clamp(c.p("margin", 1.0) - d, min=0) ** 2
    return reduce(c, l)


def L_triplet_margin(c):
    a, p, n = c.f("anchor"), c.f("positive"), c.f("negative")
    l = F.triplet_margin_loss(a, p, n, margin=c.p("margin", 1.0), p=c.p("p", 2), eps=c.p("eps", 1e-6),
                              swap=c.p("swap", False), reduction="none")
    return reduce(c, l)


def L_ntxent(c):
    a, b = c.f("x1"), c.f("x2")
    tau = c.p("temperature", 0.07)
    z = torch.cat([a, b], 0)
    n2 = z.shape[0]
    n = n2 // 2
    zn = z / z.norm(dim=1, keepdim=True).clamp_min(1e-8)
    s = (zn @ zn.T) / tau
    eye = torch.eye(n2, dtype=torch.bool)
    s = s.masked_fill(eye, float("-inf"))
    pos = torch.tensor([(i + n) % n2 for i in range(n2)])
    l = -s[torch.arange(n2), pos] + torch.logsumexp(s, dim=1)
    return reduce(c, l)


def inter_union(b1, b2):
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    xk1, yk1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xk2, yk2 = torch.min(x2, x2g), torch.min(y2, y2g)
    inter = torch.zeros_like(x1)
    mask = (yk2 > yk1) & (xk2 > xk1)
    inter[mask] = (xk2[mask] - xk1[mask]) * (yk2[mask] - yk1[mask])
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def L_box_iou(c):
    b1, b2 = c.f("predictions"), c.f("targets")
    i, u = inter_union(b1, b2)
    return reduce(c, 1 - i / (u + c.p("eps", 1e-7)))


def L_giou(c):
    b1, b2 = c.f("predictions"), c.f("targets")
    return reduce(c, tvo.generalized_box_iou_loss(b1, b2, reduction="none", eps=c.p("eps", 1e-7)))


def L_diou(c):
    b1, b2 = c.f("predictions"), c.f("targets")
    return reduce(c, tvo.distance_box_iou_loss(b1, b2, reduction="none", eps=c.p("eps", 1e-7)))


def L_ciou(c):
    b1, b2 = c.f("predictions"), c.f("targets")
    eps = c.p("eps", 1e-7)
    # torchvision: the DIoU part uses its default eps (1e-7); the caller's eps reaches only alpha
    from torchvision.ops.diou_loss import _diou_iou_loss
    diou, iou = _diou_iou_loss(b1, b2)
    x1, y1, x2, y2 = b1.unbind(-1)
    x1g, y1g, x2g, y2g = b2.unbind(-1)
    v = (4 / (math.pi ** 2)) * (_AtanRatio.apply(x2g - x1g, y2g - y1g) - _AtanRatio.apply(x2 - x1, y2 - y1)) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    l = diou + alpha * v
    xcheck(l, tvo.complete_box_iou_loss(b1, b2, reduction="none", eps=eps), "ciou")
    return reduce(c, l)


def per_sample(c):
    p, y = c.f("predictions"), c.f("targets")
    return p.reshape(p.shape[0], -1), y.reshape(y.shape[0], -1)


def L_mask_iou(c):
    p, y = per_sample(c)
    s = c.p("smooth", 1e-6)
    inter = (p * y).sum(1)
    union = (p + y - p * y).sum(1)
    return reduce(c, 1 - (inter + s) / (union + s))


def L_dice(c):
    p, y = per_sample(c)
    s = c.p("smooth", 1e-6)
    return reduce(c, 1 - (2 * (p * y).sum(1) + s) / (p.sum(1) + y.sum(1) + s))


def L_tversky(c):
    p, y = per_sample(c)
    s = c.p("smooth", 1e-6)
    a, b, g = c.p("alpha", 0.5), c.p("beta", 0.5), c.p("gamma", 1.0)
    tp = (p * y).sum(1)
    fp = (p * (1 - y)).sum(1)
    fn = ((1 - p) * y).sum(1)
    t = (tp + s) / (tp + a * fp + b * fn + s)
    return reduce(c, (1 - t) ** g)


def gan_reduce(c, terms):
    """terms: dict name -> per-element tensor. mean: each term over its own tensor."""
    red = c.red
    if red == "none":
        if len(terms) == 1:
            return next(iter(terms.values()))
        return dict(terms)
    tot = 0
    for v in terms.values():
        if red == "sum":
            tot = tot + v.sum()
        else:
            if v.numel() == 0:
                c.empty = True
            tot = tot + v.mean()
    return tot


def bce_prob(p, y):
    return F.binary_cross_entropy(p, torch.full_like(p, float(y)), reduction="none")


def L_gan_discriminator(c):
    r, f = c.f("real"), c.f("fake")
    if c.p("from_logits", False):
        return gan_reduce(c, {"real": sp(-r), "fake": sp(f)})
    return gan_reduce(c, {"real": bce_prob(r, 1), "fake": bce_prob(f, 0)})


def L_gan_generator(c):
    f = c.f("fake")
    sat = c.p("saturating", False)
    if c.p("from_logits", False):
        l = -sp(f) if sat else sp(-f)
    else:
        l = -bce_prob(f, 0) if sat else bce_prob(f, 1)
    return gan_reduce(c, {"fake": l})


def L_wgan_critic(c):
    r, f = c.f("real"), c.f("fake")
    return gan_reduce(c, {"real": -r, "fake": f})


def L_wgan_generator(c):
    f = c.f("fake")
    return gan_reduce(c, {"fake": -f})


def L_lsgan_discriminator(c):
    r, f = c.f("real"), c.f("fake")
    return gan_reduce(c, {"real": 0.5 * (r - 1) ** 2, "fake": 0.5 * f ** 2})


def L_lsgan_generator(c):
    f = c.f("fake")
    return gan_reduce(c, {"fake": 0.5 * (f - 1) ** 2})


def ctc_one(lp, tgt, blank):
    """-log p(target | lp) for one sample, lp (T,C) log-probs; autograd gives the true partial."""
    lab = [blank]
    for s in tgt:
        lab += [s, blank]
    L = len(lab)
    T = lp.shape[0]
    alpha = [None] * L
    if T == 0:
        return None
    alpha[0] = lp[0, lab[0]]
    if L > 1:
        alpha[1] = lp[0, lab[1]]
    for t in range(1, T):
        new = [None] * L
        for s in range(L):
            cand = [alpha[s]]
            if s >= 1:
                cand.append(alpha[s - 1])
            if s >= 2 and lab[s] != blank and lab[s] != lab[s - 2]:
                cand.append(alpha[s - 2])
            cand = [a for a in cand if a is not None]
            if cand:
                new[s] = torch.logsumexp(torch.stack(cand), 0) + lp[t, lab[s]]
        alpha = new
    fin = [a for a in alpha[max(0, L - 2):] if a is not None]
    if not fin:
        return None
    return -torch.logsumexp(torch.stack(fin), 0)


def L_ctc(c):
    lp = c.f("predictions")
    tg = c.req["targets"]
    il, tl = c.req["input_lengths"], c.req["target_lengths"]
    blank = c.p("blank", 0)
    zi = c.p("zero_infinity", False)
    N = lp.shape[1]
    losses = []
    for n in range(N):
        v = ctc_one(lp[: il[n], n, :], tg[n][: tl[n]], blank)
        if v is None:
            v = torch.zeros(()) if zi else torch.tensor(float("inf"))
        losses.append(v)
    l = torch.stack(losses) if losses else torch.zeros(0)
    # cross-check against F.ctc_loss: value, and gradient = torch's minus exp(lp)
    lpr = lp.detach().clone().requires_grad_(True)
    ref = F.ctc_loss(lpr, torch.tensor(tg, dtype=torch.long), torch.tensor(il), torch.tensor(tl),
                     blank=blank, reduction="none", zero_infinity=zi)
    xcheck(l, ref, "ctc value")
    if torch.isfinite(ref).all() and lp.requires_grad:
        ref.sum().backward()
        mask = torch.zeros_like(lpr)
        for n in range(N):
            mask[: il[n], n, :] = 1
        gref = lpr.grad - mask * lpr.detach().exp()
        (gours,) = torch.autograd.grad(l.sum(), lp, retain_graph=True)
        xcheck(gours, gref, "ctc grad", 1e-8, 1e-9)
    red = c.red
    if red == "none":
        return l
    if red == "sum":
        return l.sum()
    if N == 0:
        c.empty = True
        return l.sum()
    return (l / torch.tensor(tl, dtype=F64).clamp_min(1)).mean()


# name -> (function, grad inputs, reductions)
R3 = ["mean", "sum", "none"]
LOSSES = {
    "mse": (L_mse, ["predictions"], R3),
    "mae": (L_mae, ["predictions"], R3),
    "mbe": (L_mbe, ["predictions"], R3),
    "huber": (L_huber, ["predictions"], R3),
    "smooth_l1": (L_smooth_l1, ["predictions"], R3),
    "log_cosh": (L_log_cosh, ["predictions"], R3),
    "mape": (L_mape, ["predictions"], R3),
    "msle": (L_msle, ["predictions"], R3),
    "quantile": (L_quantile, ["predictions"], R3),
    "poisson_nll": (L_poisson_nll, ["predictions"], R3),
    "gaussian_nll": (L_gaussian_nll, ["predictions", "var"], R3),
    "bce": (L_bce, ["predictions"], R3),
    "bce_with_logits": (L_bce_with_logits, ["predictions"], R3),
    "cross_entropy": (L_cross_entropy, ["predictions"], R3),
    "nll": (L_nll, ["predictions"], R3),
    "kl_div": (L_kl_div, ["predictions"], R3 + ["batchmean"]),
    "focal": (L_focal, ["predictions"], R3),
    "sigmoid_focal": (L_sigmoid_focal, ["predictions"], R3),
    "hinge": (L_hinge, ["predictions"], R3),
    "squared_hinge": (L_squared_hinge, ["predictions"], R3),
    "categorical_hinge": (L_categorical_hinge, ["predictions"], R3),
    "multi_margin": (L_multi_margin, ["predictions"], R3),
    "multilabel_margin": (L_multilabel_margin, ["predictions"], R3),
    "soft_margin": (L_soft_margin, ["predictions"], R3),
    "multilabel_soft_margin": (L_multilabel_soft_margin, ["predictions"], R3),
    "margin_ranking": (L_margin_ranking, ["x1", "x2"], R3),
    "hinge_embedding": (L_hinge_embedding, ["predictions"], R3),
    "cosine_embedding": (L_cosine_embedding, ["x1", "x2"], R3),
    "contrastive": (L_contrastive, ["x1", "x2"], R3),
    "triplet_margin": (L_triplet_margin, ["anchor", "positive", "negative"], R3),
    "ntxent": (L_ntxent, ["x1", "x2"], R3),
    "box_iou": (L_box_iou, ["predictions"], R3),
    "giou": (L_giou, ["predictions"], R3),
    "diou": (L_diou, ["predictions"], R3),
    "ciou": (L_ciou, ["predictions"], R3),
    "mask_iou": (L_mask_iou, ["predictions"], R3),
    "dice": (L_dice, ["predictions"], R3),
    "tversky": (L_tversky, ["predictions"], R3),
    "gan_discriminator": (L_gan_discriminator, ["real", "fake"], R3),
    "gan_generator": (L_gan_generator, ["fake"], R3),
    "wgan_critic": (L_wgan_critic, ["real", "fake"], R3),
    "wgan_generator": (L_wgan_generator, ["fake"], R3),
    "lsgan_discriminator": (L_lsgan_discriminator, ["real", "fake"], R3),
    "lsgan_generator": (L_lsgan_generator, ["fake"], R3),
    "ctc": (L_ctc, ["predictions"], R3),
}


# --------------------------------------------------------------------------
# evaluation, JSON encoding, finite-difference self-check
# --------------------------------------------------------------------------
def enc(x):
    if isinstance(x, list):
        return [enc(v) for v in x]
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def tens2json(t):
    return enc(t.detach().tolist()) if t.dim() > 0 else enc(float(t.detach()))


def evaluate(loss, req):
    fn, grads, _ = LOSSES[loss]
    c = Ctx(req, grads)
    val = fn(c)
    leaves = [c.leaves[g] for g in grads]
    if c.empty:
        v = 0.0 if req.get("empty_mean") == "zero" else NAN
        return v, {g: torch.zeros_like(t) for g, t in zip(grads, leaves)}, c
    total = sum(v.sum() for v in val.values()) if isinstance(val, dict) else val.sum()
    gs = {}
    if total.requires_grad:
        out = torch.autograd.grad(total, leaves, allow_unused=True)
    else:
        out = [None] * len(leaves)
    for g, t, o in zip(grads, leaves, out):
        gs[g] = torch.zeros_like(t) if o is None else o
    return val, gs, c


def scalar_total(loss, req):
    val, _, _ = evaluate(loss, req)
    if isinstance(val, float):
        return val
    if isinstance(val, dict):
        return float(sum(v.sum() for v in val.values()))
    return float(val.sum())


def fd_check(loss, req, gs, casename):
    base = copy.deepcopy(req)
    base["gradient"] = False
    for g, gt in gs.items():
        arr = np.array(req[g], dtype=np.float64)
        gnum = gt.detach().numpy()
        for idx in np.ndindex(arr.shape):
            h = 1e-6 * max(1.0, abs(arr[idx]))
            vals = []
            for s in (h, -h):
                a2 = arr.copy()
                a2[idx] += s
                r2 = dict(base)
                r2[g] = a2.tolist()
                vals.append(scalar_total(loss, r2))
            fd = (vals[0] - vals[1]) / (2 * h)
            an = float(gnum[idx])
            if not abs(fd - an) <= 1e-4 * max(1.0, abs(an), abs(fd)):
                raise AssertionError(f"FD mismatch {loss}/{casename} {g}{idx}: fd={fd} autograd={an}")


def r32(x):
    if isinstance(x, list):
        return [r32(v) for v in x]
    if isinstance(x, float):
        return float(np.float32(x))
    return x


def check_finite_request(x, where):
    if isinstance(x, list):
        for v in x:
            check_finite_request(v, where)
    elif isinstance(x, float):
        assert math.isfinite(x), f"non-finite number in request of {where}"


class Gen:
    def __init__(self, loss):
        self.loss = loss
        self.cases = []
        self.rng = np.random.default_rng(zlib.crc32(loss.encode()))
        self.names = set()

    def _add(self, case):
        assert case["name"] not in self.names, case["name"]
        self.names.add(case["name"])
        self.cases.append(case)

    def ok(self, name, req, fd=False):
        req = dict(req)
        if req.get("dtype") == "float32":
            req = {k: (r32(v) if isinstance(v, (list, float)) else v) for k, v in req.items()}
        for k, v in req.items():
            check_finite_request(v, f"{self.loss}/{name}")
        val, gs, c = evaluate(self.loss, req)
        if isinstance(val, float):
            value = enc(val)
        elif isinstance(val, dict):
            value = {k: tens2json(v) for k, v in val.items()}
        else:
            value = tens2json(val)
        expect = {"value": value}
        if req.get("gradient"):
            expect["gradient"] = {g: tens2json(t) for g, t in gs.items()}
            if fd:
                fd_check(self.loss, req, gs, name)
        case = {"name": name, "request": req, "expect": expect}
        if req.get("gradient"):
            case["fd"] = bool(fd)
        self._add(case)

    def err(self, name, req, code, field, status=400):
        self._add({"name": name, "request": req,
                   "error": {"status": status, "code": code, "field": field}})

    # random normal / uniform as nested python lists
    def n(self, *shape, scale=1.0, loc=0.0):
        return (loc + scale * self.rng.standard_normal(shape)).tolist()

    def u(self, *shape, lo=0.0, hi=1.0):
        return self.rng.uniform(lo, hi, shape).tolist()

    def sign(self, *shape):
        return (self.rng.integers(0, 2, shape) * 2 - 1).astype(float).tolist()

    def ints(self, hi, *shape):
        return self.rng.integers(0, hi, shape).tolist()

    def standard(self, make, reductions, params=None, fd=True, tag="random"):
        """every reduction x both dtypes, gradient on."""
        params = params or {}
        for red in reductions:
            for dt in ("float64", "float32"):
                req = dict(make())
                req.update(params)
                req.update({"reduction": red, "gradient": True, "dtype": dt})
                self.ok(f"{tag}_{red}_{'f64' if dt == 'float64' else 'f32'}", req, fd=fd)

    def variants(self, make, plist, reds=("mean", "none"), fd=True):
        for params in plist:
            desc = "_".join(f"{k}{'' if isinstance(v, list) else '_' + str(v)}" for k, v in params.items())
            for red in reds:
                for dt in ("float64", "float32") if red == reds[0] else ("float64",):
                    req = dict(make())
                    req.update(params)
                    req.update({"reduction": red, "gradient": True, "dtype": dt})
                    self.ok(f"param_{desc}_{red}_{'f64' if dt == 'float64' else 'f32'}", req, fd=fd)

    def defaults(self, make):
        """no reduction/gradient/dtype keys: mean, no gradient, float64."""
        self.ok("defaults_only", make())

    def common_errors(self, make, second, bad_shape, foreign_param=("delta", 0.5)):
        r = dict(make())
        r[second] = bad_shape
        self.err(f"shape_mismatch_{second}", r, "shape_mismatch", second)
        r = dict(make())
        r["reductoin"] = "mean"
        self.err("unknown_field_typo", r, "unknown_field", "reductoin")
        if foreign_param:
            r = dict(make())
            r[foreign_param[0]] = foreign_param[1]
            self.err(f"unknown_field_{foreign_param[0]}", r, "unknown_field", foreign_param[0])
        r = dict(make())
        r["reduction"] = "average"
        self.err("invalid_reduction", r, "invalid_parameter", "reduction")

    def write(self, outdir):
        path = os.path.join(outdir, f"{self.loss}.json")
        with open(path, "w") as fh:
            json.dump({"loss": self.loss, "cases": self.cases}, fh, allow_nan=False, separators=(",", ":"))
            fh.write("\n")
        return path
