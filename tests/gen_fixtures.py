#!/usr/bin/python3
"""Generate the golden fixtures of lossd: one JSON file per loss of core/loss_list.h.

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
    possible = []
    for n in range(N):
        v = ctc_one(lp[: il[n], n, :], tg[n][: tl[n]], blank)
        possible.append(v is not None)
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
            if possible[n]:
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
            roundoff = 1e-14 * max(abs(v) for v in vals) / h
            if not abs(fd - an) <= 1e-4 * max(1.0, abs(an), abs(fd)) + roundoff:
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

    def variants(self, make, plist, reds=("mean", "none"), fd=True, tag="param"):
        for params in plist:
            desc = "_".join(f"{k}_{'x'.join(map(str, np.shape(v))) if isinstance(v, list) else v}" for k, v in params.items())
            for red in reds:
                for dt in ("float64", "float32") if red == reds[0] else ("float64",):
                    req = dict(make())
                    req.update(params)
                    req.update({"reduction": red, "gradient": True, "dtype": dt})
                    self.ok(f"{tag}_{desc}_{red}_{'f64' if dt == 'float64' else 'f32'}", req, fd=fd)

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
            # one case per line: readable diffs, still plain JSON
            fh.write('{"loss": %s,\n "cases": [\n' % json.dumps(self.loss))
            fh.write(",\n".join("  " + json.dumps(c, allow_nan=False, separators=(",", ":")) for c in self.cases))
            fh.write("\n ]}\n")
        return path


# --------------------------------------------------------------------------
# case builders, one per loss
# --------------------------------------------------------------------------
BUILDERS = {}


def builder(*names):
    def deco(fn):
        for n in names:
            BUILDERS[n] = fn
        return fn
    return deco


def elementwise_extras(g, make_pt, shape_bad=None):
    """shapes 0-d / 1-d / 3-d, empty tensors, defaults."""
    g.defaults(lambda: make_pt((2, 3)))
    g.ok("scalar_0d_mean_f64", {**make_pt(()), "reduction": "mean", "gradient": True}, fd=True)
    g.ok("vector_1d_sum_f64", {**make_pt((5,)), "reduction": "sum", "gradient": True}, fd=True)
    g.ok("tensor_3d_none_f64", {**make_pt((2, 2, 2)), "reduction": "none", "gradient": True}, fd=True)
    emp = {k: ([] if isinstance(v, list) else v) for k, v in make_pt((0,)).items()}
    g.ok("empty_mean_nan", {**emp, "reduction": "mean", "gradient": True})
    g.ok("empty_mean_zero", {**emp, "reduction": "mean", "gradient": True, "empty_mean": "zero"})
    g.ok("empty_sum", {**emp, "reduction": "sum", "gradient": True})
    g.ok("empty_none", {**emp, "reduction": "none", "gradient": True})


def regression(g, make_pt, weighted=False, foreign_param=("delta", 0.5)):
    g.standard(lambda: make_pt((2, 3)), R3)
    if weighted:
        mk = lambda: {**make_pt((2, 3)), "weight": g.u(2, 3, lo=0.1, hi=2.0)}
        g.standard(mk, R3, tag="weighted")
        r = make_pt((2, 3))
        r["weight"] = g.u(3, lo=0.1, hi=2.0)
        g.err("weight_shape_mismatch", r, "shape_mismatch", "weight")
    elementwise_extras(g, make_pt)
    g.common_errors(lambda: make_pt((2, 3)), "targets", g.n(3, 2), foreign_param)


def pt_normal(g, scale=1.0):
    return lambda shape: {"predictions": g.n(*shape, scale=scale), "targets": g.n(*shape, scale=scale)}


@builder("mse")
def b_mse(g):
    mk = pt_normal(g)
    regression(g, mk, weighted=True)
    g.ok("equal_inputs_zero", {"predictions": [1.5, -2.0], "targets": [1.5, -2.0], "reduction": "mean", "gradient": True})
    g.ok("E2_example", {"predictions": [1.0, 3.0], "targets": [0.0, 0.0], "reduction": "mean", "gradient": True})
    r = mk((2, 3)); r["reduction"] = "batchmean"
    g.err("batchmean_not_supported", r, "invalid_parameter", "reduction")
    r = mk((2, 3)); r["empty_mean"] = "one"
    g.err("invalid_empty_mean", r, "invalid_parameter", "empty_mean")


@builder("mae")
def b_mae(g):
    regression(g, pt_normal(g), weighted=True)
    for dt in ("float64", "float32"):
        g.ok(f"E1_sign0_tie_{dt}", {"predictions": [0.0, 1.0, -2.0], "targets": [0.0, 0.0, 0.0],
                                    "reduction": "mean", "gradient": True, "dtype": dt})


@builder("mbe")
def b_mbe(g):
    regression(g, pt_normal(g))
    g.ok("E29_example", {"predictions": [1.0, 2.0, 3.0], "targets": [0.0, 0.5, 4.0], "reduction": "mean", "gradient": True})


@builder("huber")
def b_huber(g):
    mk = pt_normal(g, 1.5)
    regression(g, mk, weighted=True, foreign_param=("beta", 0.5))
    g.variants(lambda: mk((2, 3)), [{"delta": 0.5}, {"delta": 2.0}])
    d = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
    g.ok("E4_breakpoints_delta1", {"predictions": d, "targets": [0.0] * 7, "reduction": "none", "gradient": True})
    g.ok("E4b_delta2", {"predictions": [2.0, -2.0, 3.0], "targets": [0.0] * 3, "reduction": "sum", "gradient": True, "delta": 2.0})
    for v in (0.0, -1.0):
        r = mk((2, 3)); r["delta"] = v
        g.err(f"delta_{v}", r, "invalid_parameter", "delta")


@builder("smooth_l1")
def b_smooth_l1(g):
    mk = pt_normal(g, 1.5)
    regression(g, mk)
    g.variants(lambda: mk((2, 3)), [{"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}])
    g.ok("E3b_beta0_zero_diff_grad0", {"predictions": [0.0, 1.0, -1.0], "targets": [0.0] * 3, "reduction": "none", "gradient": True, "beta": 0.0})
    g.ok("E3c_breakpoint_beta_half", {"predictions": [0.5, -0.5, 0.0], "targets": [0.0] * 3, "reduction": "mean", "gradient": True, "beta": 0.5})
    r = mk((2, 3)); r["beta"] = -0.5
    g.err("beta_negative", r, "invalid_parameter", "beta")


@builder("log_cosh")
def b_log_cosh(g):
    mk = pt_normal(g, 2.0)
    regression(g, mk)
    for dt in ("float64", "float32"):
        g.ok(f"large_diff_stable_{dt}", {"predictions": [800.0, -800.0, 50.0, 1e-8], "targets": [0.0, 0.0, -50.0, 0.0],
                                         "reduction": "none", "gradient": True, "dtype": dt}, fd=True)


@builder("mape")
def b_mape(g):
    def mk(shape):
        y = g.u(*shape, lo=0.5, hi=3.0)
        y = (np.array(y) * np.where(g.rng.random(shape) < 0.5, -1, 1)).tolist() if shape != () else y
        return {"predictions": g.n(*shape, scale=2.0), "targets": y}
    regression(g, mk)
    g.ok("target_zero_eps_1e-7", {"predictions": [0.5, -5e-6, 1.0], "targets": [0.0, 0.0, 2.0], "reduction": "none", "gradient": True}, fd=True)
    g.ok("tie_grad0", {"predictions": [2.0, -1.0], "targets": [2.0, 3.0], "reduction": "mean", "gradient": True})


@builder("msle")
def b_msle(g):
    mk = lambda shape: {"predictions": g.u(*shape, lo=0.0, hi=4.0), "targets": g.u(*shape, lo=0.0, hi=4.0)}
    regression(g, mk)
    g.ok("negative_inputs_clipped_grad0", {"predictions": [-0.5, -3.0, 1.0], "targets": [-1.0, 2.0, -0.25], "reduction": "none", "gradient": True})
    g.ok("zero_inputs", {"predictions": [0.0, 0.0], "targets": [0.0, 1.0], "reduction": "sum", "gradient": False})


@builder("quantile")
def b_quantile(g):
    mk = pt_normal(g)
    regression(g, mk)
    g.variants(lambda: mk((2, 3)), [{"quantile": 0.1}, {"quantile": 0.9}])
    g.ok("tie_grad0", {"predictions": [1.0, 2.0, 3.0], "targets": [1.0, 2.5, 2.0], "reduction": "none", "gradient": True, "quantile": 0.3})
    for v in (0.0, 1.0, 1.5):
        r = mk((2, 3)); r["quantile"] = v
        g.err(f"quantile_{v}", r, "invalid_parameter", "quantile")


@builder("poisson_nll")
def b_poisson_nll(g):
    mk = lambda shape: {"predictions": g.n(*shape), "targets": g.u(*shape, lo=0.0, hi=4.0)}
    regression(g, mk)
    mkr = lambda: {"predictions": g.u(2, 3, lo=0.2, hi=3.0), "targets": g.u(2, 3, lo=0.0, hi=4.0)}
    g.variants(mkr, [{"log_input": False}, {"log_input": False, "eps": 0.01}])
    g.variants(lambda: mk((2, 3)), [{"full": True}, {"log_input": False, "full": True}] if False else [{"full": True}])
    g.ok("E10c_full_stirling_mask", {"predictions": [0.0, 0.0, 0.0, 0.0], "targets": [0.0, 1.0, 1.5, 3.0], "reduction": "none", "gradient": True, "full": True})
    g.ok("E10_example", {"predictions": [-1.0, 0.0, 2.0], "targets": [0.0, 1.0, 3.0], "reduction": "none", "gradient": True})
    g.ok("E10b_rate_zero", {"predictions": [0.0], "targets": [0.0], "reduction": "sum", "gradient": True, "log_input": False})


@builder("gaussian_nll")
def b_gaussian_nll(g):
    def mk(shape):
        return {"predictions": g.n(*shape), "targets": g.n(*shape), "var": g.u(*shape, lo=0.2, hi=2.0)}
    regression(g, mk, foreign_param=("delta", 0.5))
    g.variants(lambda: mk((2, 3)), [{"full": True}, {"eps": 0.1}])
    g.variants(lambda: mk((2, 3)), [{"eps": 0.5}], reds=("none",), fd=False)  # clamp: straight-through gradient
    g.ok("var_last_dim_1", {"predictions": g.n(2, 3), "targets": g.n(2, 3), "var": g.u(2, 1, lo=0.2, hi=2.0),
                            "reduction": "mean", "gradient": True}, fd=True)
    g.ok("var_one_fewer_dim", {"predictions": g.n(2, 3), "targets": g.n(2, 3), "var": g.u(2, lo=0.2, hi=2.0),
                               "reduction": "none", "gradient": True}, fd=True)
    g.ok("E11_var_below_eps_straight_through", {"predictions": [0.5, 0.0], "targets": [0.0, 0.0], "var": [1e-8, 0.0],
                                               "reduction": "none", "gradient": True})
    r = mk((2, 3)); r["var"][0][1] = -0.5
    g.err("var_negative", r, "out_of_domain", "var")
    r = mk((2, 3)); r["var"] = g.u(3, 2, lo=0.2, hi=2.0)
    g.err("var_shape_mismatch", r, "shape_mismatch", "var")


@builder("bce")
def b_bce(g):
    mk = lambda shape: {"predictions": g.u(*shape, lo=0.05, hi=0.95), "targets": g.u(*shape)}
    mkh = lambda: {"predictions": g.u(2, 3, lo=0.05, hi=0.95), "targets": np.array(g.ints(2, 2, 3), float).tolist()}
    g.standard(lambda: mk((2, 3)), R3)
    g.standard(mkh, ["mean"], tag="hard_targets")
    g.variants(lambda: mk((2, 3)), [{"weight": g.u(2, 3, lo=0.1, hi=2.0)}, {"weight": g.u(3, lo=0.1, hi=2.0)}], reds=("mean", "sum", "none"))
    elementwise_extras(g, mk)
    p = [0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1e-30, 1 - 1e-7]
    y = [1.0, 0.0, 0.0, 1.0, 1.0, 0.3, 1.0, 1.0]
    for red in R3:
        g.ok(f"E5_clamps_{red}_f64", {"predictions": p, "targets": y, "reduction": red, "gradient": True})
    g.ok("E5_clamps_mean_f32", {"predictions": p, "targets": y, "reduction": "mean", "gradient": True, "dtype": "float32"})
    g.ok("E5b_tiny_p_1e-50", {"predictions": [1e-50], "targets": [1.0], "reduction": "sum", "gradient": True})
    g.common_errors(lambda: mk((2, 3)), "targets", g.u(3, 2))
    for v in (1.5, -0.1):
        r = mk((2, 3)); r["predictions"][1][2] = v
        g.err(f"prob_outside_unit_interval_{v}", r, "out_of_domain", "predictions")
    r = mk((2, 3)); r["weight"] = g.u(2, lo=0.1, hi=1.0)
    g.err("weight_not_broadcastable", r, "shape_mismatch", "weight")


@builder("bce_with_logits")
def b_bcewl(g):
    mk = lambda shape: {"predictions": g.n(*shape, scale=2.0), "targets": g.u(*shape)}
    g.standard(lambda: mk((2, 3)), R3)
    g.variants(lambda: mk((2, 3)), [{"weight": g.u(2, 3, lo=0.1, hi=2.0)}, {"pos_weight": g.u(3, lo=0.5, hi=3.0)},
                                    {"weight": g.u(3, lo=0.1, hi=2.0), "pos_weight": g.u(3, lo=0.5, hi=3.0)}])
    elementwise_extras(g, mk)
    x = [-1000.0, -100.0, 0.0, 100.0, 1000.0, -20.0]
    y = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    for dt in ("float64", "float32"):
        g.ok(f"E6_extreme_logits_{dt}", {"predictions": x, "targets": y, "reduction": "none", "gradient": True, "dtype": dt})
    g.ok("E6b_pos_weight_extreme", {"predictions": [[-1000.0, 3.0]], "targets": [[1.0, 0.0]], "pos_weight": [3.0, 2.0],
                                    "reduction": "sum", "gradient": True})
    g.common_errors(lambda: mk((2, 3)), "targets", g.u(3, 2))
    r = mk((2, 3)); r["pos_weight"] = [1.0, 2.0]
    g.err("pos_weight_not_broadcastable", r, "shape_mismatch", "pos_weight")


def softmax_rows(g, shape, axis=1):
    a = np.exp(g.rng.standard_normal(shape))
    return (a / a.sum(axis=axis, keepdims=True)).tolist()


@builder("cross_entropy")
def b_ce(g):
    C = 4
    mk = lambda: {"predictions": g.n(3, C, scale=1.5), "targets": g.ints(C, 3)}
    mkp = lambda: {"predictions": g.n(3, C, scale=1.5), "targets": softmax_rows(g, (3, C))}
    mkk = lambda: {"predictions": g.n(2, C, 3), "targets": g.ints(C, 2, 3)}
    g.standard(mk, R3, tag="index")
    g.standard(mkp, R3, tag="prob")
    g.standard(mkk, ["mean", "none"], tag="index_kdim")
    g.ok("prob_kdim_mean", {"predictions": g.n(2, C, 2), "targets": softmax_rows(g, (2, C, 2)), "reduction": "mean", "gradient": True}, fd=True)
    g.ok("unbatched_C_index", {"predictions": g.n(C), "targets": 2, "reduction": "mean", "gradient": True}, fd=True)
    g.ok("unbatched_C_prob", {"predictions": g.n(C), "targets": softmax_rows(g, (C,), 0), "reduction": "sum", "gradient": True}, fd=True)
    W = g.u(C, lo=0.2, hi=2.0)
    g.variants(mk, [{"weight": W}, {"label_smoothing": 0.1}, {"weight": W, "label_smoothing": 0.2}], reds=("mean", "sum", "none"))
    g.variants(mkp, [{"weight": W}, {"label_smoothing": 0.15}], reds=("mean", "none"), tag="prob")
    g.variants(mkk, [{"weight": W, "label_smoothing": 0.1}], reds=("mean",), tag="kdim")
    # ignore_index
    t = g.ints(C, 4); t[1] = -100
    base = {"predictions": g.n(4, C), "targets": t}
    for red in R3:
        g.ok(f"ignore_default_{red}", {**base, "reduction": red, "gradient": True}, fd=True)
    g.ok("ignore_weight_ls_mean", {**base, "weight": W, "label_smoothing": 0.1, "reduction": "mean", "gradient": True}, fd=True)
    g.ok("ignore_index_valid_class", {"predictions": g.n(4, C), "targets": [0, 1, 2, 1], "ignore_index": 1,
                                       "reduction": "mean", "gradient": True}, fd=True)
    allign = {"predictions": g.n(2, C), "targets": [-100, -100]}
    g.ok("all_ignored_mean_nan", {**allign, "reduction": "mean", "gradient": True})
    g.ok("all_ignored_mean_empty_zero", {**allign, "reduction": "mean", "gradient": True, "empty_mean": "zero"})
    g.ok("all_ignored_sum", {**allign, "reduction": "sum", "gradient": True})
    g.ok("all_ignored_none", {**allign, "reduction": "none", "gradient": True})
    g.ok("empty_kdim_mean_nan", {"predictions": [[[], [], [], []]], "targets": [[]], "reduction": "mean", "gradient": True})
    g.ok("empty_kdim_sum", {"predictions": [[[], [], [], []]], "targets": [[]], "reduction": "sum", "gradient": True})
    for dt in ("float64", "float32"):
        g.ok(f"E7_extreme_logits_{dt}", {"predictions": [[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]], "targets": [0, 2],
                                         "reduction": "none", "gradient": True, "dtype": dt})
    g.defaults(mk)
    g.common_errors(mk, "targets", g.ints(C, 4), foreign_param=("margin", 1.0))
    r = mk(); r["targets"][0] = C
    g.err("class_index_out_of_range", r, "out_of_domain", "targets")
    r = mk(); r["targets"][2] = -1
    g.err("class_index_negative", r, "out_of_domain", "targets")
    for v in (1.5, -0.1):
        r = mk(); r["label_smoothing"] = v
        g.err(f"label_smoothing_{v}", r, "invalid_parameter", "label_smoothing")
    r = mk(); r["weight"] = [1.0, 2.0]
    g.err("weight_wrong_length", r, "shape_mismatch", "weight")
    r = mkp(); r["targets"] = softmax_rows(g, (3, C + 1))
    g.err("prob_targets_shape_mismatch", r, "shape_mismatch", "targets")


def log_softmax(g, shape, axis=1):
    return torch.log_softmax(torch.tensor(g.rng.standard_normal(shape) * 1.5), dim=axis).tolist()


@builder("nll")
def b_nll(g):
    C = 4
    mk = lambda: {"predictions": log_softmax(g, (3, C)), "targets": g.ints(C, 3)}
    mkk = lambda: {"predictions": log_softmax(g, (2, C, 3)), "targets": g.ints(C, 2, 3)}
    g.standard(mk, R3)
    g.standard(mkk, ["mean", "none"], tag="kdim")
    g.ok("unbatched_C", {"predictions": log_softmax(g, (C,), 0), "targets": 1, "reduction": "mean", "gradient": True}, fd=True)
    W = g.u(C, lo=0.2, hi=2.0)
    g.variants(mk, [{"weight": W}], reds=("mean", "sum", "none"))
    t = g.ints(C, 4); t[2] = -100
    g.ok("ignore_default_weight_mean", {"predictions": log_softmax(g, (4, C)), "targets": t, "weight": W, "reduction": "mean", "gradient": True}, fd=True)
    g.ok("ignore_index_3", {"predictions": log_softmax(g, (4, C)), "targets": [3, 0, 3, 1], "ignore_index": 3, "reduction": "none", "gradient": True}, fd=True)
    g.ok("E8b_weighted", {"predictions": log_softmax(g, (3, 3)), "targets": [0, 1, 2], "weight": [1.0, 2.0, 3.0], "reduction": "mean", "gradient": True}, fd=True)
    allign = {"predictions": log_softmax(g, (2, C)), "targets": [-100, -100]}
    g.ok("all_ignored_mean_nan", {**allign, "reduction": "mean", "gradient": True})
    g.ok("all_ignored_mean_empty_zero", {**allign, "reduction": "mean", "gradient": True, "empty_mean": "zero"})
    g.ok("all_ignored_sum", {**allign, "reduction": "sum", "gradient": True})
    g.ok("empty_kdim_mean_nan", {"predictions": [[[], [], [], []]], "targets": [[]], "reduction": "mean", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "targets", g.ints(C, 5), foreign_param=("label_smoothing", 0.1))
    r = mk(); r["targets"][1] = C + 2
    g.err("class_index_out_of_range", r, "out_of_domain", "targets")
    r = mk(); r["weight"] = [1.0, 2.0, 3.0]
    g.err("weight_wrong_length", r, "shape_mismatch", "weight")


@builder("kl_div")
def b_kl(g):
    mk = lambda: {"predictions": log_softmax(g, (3, 4)), "targets": softmax_rows(g, (3, 4))}
    mkl = lambda: {"predictions": log_softmax(g, (3, 4)), "targets": log_softmax(g, (3, 4)), "log_target": True}
    g.standard(mk, R3 + ["batchmean"])
    g.standard(mkl, ["batchmean", "none"], tag="log_target")
    g.ok("E9_target_zero", {"predictions": [[-1.0, -0.5, -2.0], [-0.3, -1.2, -0.7]], "targets": [[0.0, 0.5, 0.5], [0.2, 0.2, 0.6]],
                            "reduction": "none", "gradient": True}, fd=True)
    g.ok("E9b_mean", {"predictions": [[-1.0, -0.5, -2.0], [-0.3, -1.2, -0.7]], "targets": [[0.0, 0.5, 0.5], [0.2, 0.2, 0.6]],
                      "reduction": "mean", "gradient": True}, fd=True)
    g.ok("one_dim_batchmean", {"predictions": log_softmax(g, (5,), 0), "targets": softmax_rows(g, (5,), 0), "reduction": "batchmean", "gradient": True}, fd=True)
    g.ok("empty_mean_nan", {"predictions": [], "targets": [], "reduction": "mean", "gradient": True})
    g.ok("empty_mean_zero", {"predictions": [], "targets": [], "reduction": "mean", "gradient": True, "empty_mean": "zero"})
    g.ok("empty_sum", {"predictions": [], "targets": [], "reduction": "sum", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "targets", softmax_rows(g, (4, 3)))


@builder("focal")
def b_focal(g):
    mk = lambda shape: {"predictions": g.u(*shape, lo=0.05, hi=0.95), "targets": np.array(g.ints(2, *shape), float).tolist()}
    mks = lambda: {"predictions": g.u(2, 3, lo=0.05, hi=0.95), "targets": g.u(2, 3)}
    g.standard(lambda: mk((2, 3)), R3)
    g.standard(mks, ["mean"], tag="soft_targets")
    g.variants(lambda: mk((2, 3)), [{"alpha": -1.0}, {"alpha": 0.5, "gamma": 0.0}, {"gamma": 0.5}, {"gamma": 1.0}, {"alpha": 0.75, "gamma": 3.0}])
    elementwise_extras(g, mk)
    p = [0.0, 1e-8, 0.5, 1.0, 1.0, 0.0]
    y = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    for gm in (2.0, 0.5, 0.0):
        g.ok(f"E23_edges_gamma_{gm}", {"predictions": p, "targets": y, "reduction": "none", "gradient": True, "gamma": gm})
    g.ok("E23_edges_alpha_off_mean", {"predictions": p, "targets": y, "reduction": "mean", "gradient": True, "alpha": -1.0, "gamma": 2.0})
    g.common_errors(lambda: mk((2, 3)), "targets", g.u(3, 2))
    r = mk((2, 3)); r["predictions"][0][0] = 1.25
    g.err("prob_outside_unit_interval", r, "out_of_domain", "predictions")
    r = mk((2, 3)); r["gamma"] = -1.0
    g.err("gamma_negative", r, "invalid_parameter", "gamma")


@builder("sigmoid_focal")
def b_sfocal(g):
    mk = lambda shape: {"predictions": g.n(*shape, scale=2.0), "targets": np.array(g.ints(2, *shape), float).tolist()}
    g.standard(lambda: mk((2, 3)), R3)
    g.variants(lambda: mk((2, 3)), [{"alpha": -1.0}, {"alpha": 0.5, "gamma": 0.0}, {"gamma": 0.5}, {"alpha": 0.9, "gamma": 3.0}])
    elementwise_extras(g, mk)
    x = [-100.0, -5.0, 0.0, 5.0, 100.0, 30.0]
    y = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    for dt in ("float64", "float32"):
        g.ok(f"E22_example_{dt}", {"predictions": x, "targets": y, "reduction": "none", "gradient": True, "dtype": dt})
    g.ok("E22c_gamma_half_pt_1_no_nan", {"predictions": [30.0, 100.0, -100.0, 1000.0], "targets": [1.0, 1.0, 0.0, 1.0],
                                         "reduction": "none", "gradient": True, "gamma": 0.5})
    g.ok("extreme_logits_mean", {"predictions": [-1000.0, 1000.0, -1000.0, 1000.0], "targets": [1.0, 0.0, 0.0, 1.0],
                                 "reduction": "mean", "gradient": True})
    g.common_errors(lambda: mk((2, 3)), "targets", g.u(3, 2))
    r = mk((2, 3)); r["gamma"] = -0.5
    g.err("gamma_negative", r, "invalid_parameter", "gamma")


def hinge_like(g):
    mk = lambda shape: {"predictions": g.n(*shape, scale=1.5), "targets": g.sign(*shape)}
    mk01 = lambda: {"predictions": g.n(2, 3, scale=1.5), "targets": np.array(g.ints(2, 2, 3), float).tolist()}
    g.standard(lambda: mk((2, 3)), R3)
    g.standard(mk01, ["mean"], tag="targets01_mapped")
    elementwise_extras(g, mk)
    g.ok("tie_at_margin_passes_gradient", {"predictions": [1.0, -1.0, 0.5, 2.0], "targets": [1.0, -1.0, 1.0, -1.0],
                                           "reduction": "mean", "gradient": True})
    g.ok("tie_targets01", {"predictions": [1.0, -1.0, 0.25], "targets": [1.0, 0.0, 0.0], "reduction": "none", "gradient": True})
    g.ok("all_ones_targets", {"predictions": [0.3, 2.0], "targets": [1.0, 1.0], "reduction": "sum", "gradient": True})
    g.common_errors(lambda: mk((2, 3)), "targets", g.sign(3, 2))
    r = mk((2, 3)); r["targets"][0][1] = 2.0
    g.err("target_not_pm1", r, "out_of_domain", "targets")
    r = mk((2, 3)); r["targets"] = [[0.0, 1.0, -1.0], [1.0, 1.0, -1.0]]
    g.err("target_mixed_0_pm1", r, "out_of_domain", "targets")


BUILDERS["hinge"] = hinge_like
BUILDERS["squared_hinge"] = hinge_like


@builder("categorical_hinge")
def b_cath(g):
    def mk(n=3, c=4):
        t = np.zeros((n, c)); t[np.arange(n), g.rng.integers(0, c, n)] = 1
        return {"predictions": g.n(n, c), "targets": t.tolist()}
    g.standard(mk, R3)
    g.ok("all_other_negative", {"predictions": [[-1.0, 0.5, -2.0], [0.2, -0.3, -0.1]], "targets": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                                "reduction": "none", "gradient": True}, fd=True)
    g.ok("beyond_margin_zero", {"predictions": [[3.0, 0.5, -2.0]], "targets": [[1.0, 0.0, 0.0]], "reduction": "mean", "gradient": True}, fd=True)
    g.defaults(mk)
    g.common_errors(mk, "targets", [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


@builder("multi_margin")
def b_mm(g):
    mk = lambda: {"predictions": g.n(3, 4), "targets": g.ints(4, 3)}
    g.standard(mk, R3)
    g.variants(mk, [{"p": 2}, {"margin": 0.5}, {"weight": g.u(4, lo=0.2, hi=2.0)}, {"p": 2, "margin": 2.0, "weight": g.u(4, lo=0.2, hi=2.0)}])
    for red in R3:
        g.ok(f"E16_tie_grad0_{red}", {"predictions": [[1.0, 0.0, 0.5], [0.1, 0.2, 0.4]], "targets": [0, 2], "reduction": red, "gradient": True})
    g.ok("E16b_weight_mean_over_N", {"predictions": [[1.0, 0.0, 0.5], [0.1, 0.2, 0.4]], "targets": [0, 2], "weight": [1.0, 2.0, 3.0],
                                     "reduction": "mean", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "targets", g.ints(4, 4), foreign_param=("ignore_index", -100))
    r = mk(); r["targets"][1] = 4
    g.err("class_index_out_of_range", r, "out_of_domain", "targets")
    r = mk(); r["p"] = 3
    g.err("p_not_1_or_2", r, "invalid_parameter", "p")
    r = mk(); r["weight"] = [1.0, 1.0]
    g.err("weight_wrong_length", r, "shape_mismatch", "weight")


@builder("multilabel_margin")
def b_mlm(g):
    def mk(n=3, c=4, junk=False):
        rows = []
        for _ in range(n):
            k = int(g.rng.integers(1, c))
            perm = g.rng.permutation(c).tolist()
            row = perm[:k] + [-1] * (c - k)
            if junk and k < c - 1:
                row[k + 1] = perm[0]
            rows.append(row)
        return {"predictions": g.n(n, c), "targets": rows}
    g.standard(mk, R3)
    g.ok("E17_doc_example", {"predictions": [[0.1, 0.2, 0.4, 0.8]], "targets": [[3, 0, -1, 1]], "reduction": "mean", "gradient": True}, fd=True)
    g.ok("entries_after_minus1_ignored", {"predictions": [[0.1, 0.2, 0.4, 0.8]], "targets": [[3, -1, 0, 1]], "reduction": "none", "gradient": True}, fd=True)
    g.ok("full_label_set", {"predictions": [[0.1, 0.2, 0.4]], "targets": [[0, 1, 2]], "reduction": "sum", "gradient": True})
    g.ok("empty_label_set", {"predictions": [[0.1, 0.2, 0.4]], "targets": [[-1, 0, 1]], "reduction": "sum", "gradient": True})
    g.ok("E17b_tie_grad0", {"predictions": [[0.0, 1.0, 0.5]], "targets": [[1, -1, 0]], "reduction": "mean", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "targets", [[0, -1, 0], [1, -1, 0], [2, -1, 0]])
    r = mk(); r["targets"][0] = [4, -1, 0, 0]
    g.err("class_index_out_of_range", r, "out_of_domain", "targets")


@builder("soft_margin")
def b_sm(g):
    mk = lambda shape: {"predictions": g.n(*shape, scale=2.0), "targets": g.sign(*shape)}
    g.standard(lambda: mk((2, 3)), R3)
    elementwise_extras(g, mk)
    for dt in ("float64", "float32"):
        g.ok(f"E14_no_overflow_{dt}", {"predictions": [0.0, 2.0, -100.0, 100.0, 1000.0], "targets": [1.0, 1.0, 1.0, -1.0, -1.0],
                                       "reduction": "none", "gradient": True, "dtype": dt})
    g.common_errors(lambda: mk((2, 3)), "targets", g.sign(3, 2))


@builder("multilabel_soft_margin")
def b_mlsm(g):
    mk = lambda: {"predictions": g.n(3, 4, scale=2.0), "targets": np.array(g.ints(2, 3, 4), float).tolist()}
    g.standard(mk, R3)
    g.variants(mk, [{"weight": g.u(4, lo=0.2, hi=2.0)}], reds=("mean", "sum", "none"))
    for dt in ("float64", "float32"):
        g.ok(f"E15_extreme_logits_{dt}", {"predictions": [[-1000.0, 1000.0, 0.0], [1000.0, -1000.0, 5.0]], "targets": [[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
                                          "reduction": "none", "gradient": True, "dtype": dt})
    g.defaults(mk)
    g.common_errors(mk, "targets", np.array(g.ints(2, 3, 3), float).tolist())
    r = mk(); r["weight"] = [1.0, 2.0]
    g.err("weight_wrong_length", r, "shape_mismatch", "weight")


@builder("margin_ranking")
def b_mr(g):
    mk = lambda shape: {"x1": g.n(*shape), "x2": g.n(*shape), "targets": g.sign(*shape)}
    g.standard(lambda: mk((6,)), R3)
    g.variants(lambda: mk((6,)), [{"margin": 0.5}, {"margin": -0.25}])
    g.ok("matrix_2d_none", {**mk((2, 3)), "reduction": "none", "gradient": True, "margin": 0.3}, fd=True)
    g.ok("E13_tie_passes_gradient", {"x1": [1.0, 0.5, 2.0], "x2": [1.0, 1.0, 0.0], "targets": [1.0, 1.0, -1.0],
                                     "reduction": "none", "gradient": True})
    g.ok("tie_at_margin", {"x1": [1.5, 0.0], "x2": [1.0, 0.5], "targets": [1.0, -1.0], "reduction": "sum", "gradient": True, "margin": 0.5})
    emp = {"x1": [], "x2": [], "targets": []}
    g.ok("empty_mean_nan", {**emp, "reduction": "mean", "gradient": True})
    g.ok("empty_sum", {**emp, "reduction": "sum", "gradient": True})
    g.defaults(lambda: mk((4,)))
    g.common_errors(lambda: mk((4,)), "x2", g.n(5))
    r = mk((4,)); r["targets"] = g.sign(3)
    g.err("targets_shape_mismatch", r, "shape_mismatch", "targets")


@builder("hinge_embedding")
def b_he(g):
    mk = lambda shape: {"predictions": g.u(*shape, lo=0.0, hi=2.5), "targets": g.sign(*shape)}
    g.standard(lambda: mk((2, 3)), R3)
    g.variants(lambda: mk((2, 3)), [{"margin": 2.0}, {"margin": 0.5}])
    elementwise_extras(g, mk)
    g.ok("E12_tie_passes_gradient", {"predictions": [0.5, 1.0, 1.5, 0.5], "targets": [-1.0, -1.0, -1.0, 1.0],
                                     "reduction": "none", "gradient": True})
    g.common_errors(lambda: mk((2, 3)), "targets", g.sign(3, 2))


@builder("cosine_embedding")
def b_ce2(g):
    mk = lambda: {"x1": g.n(3, 4), "x2": g.n(3, 4), "targets": g.sign(3)}
    g.standard(mk, R3)
    g.variants(mk, [{"margin": 0.5}, {"margin": -0.3}])
    g.ok("unbatched_D_scalar_target_pos", {"x1": g.n(4), "x2": g.n(4), "targets": 1.0, "reduction": "mean", "gradient": True}, fd=True)
    g.ok("unbatched_D_scalar_target_neg", {"x1": g.n(4), "x2": g.n(4), "targets": -1.0, "reduction": "none", "gradient": True, "margin": -0.9}, fd=True)
    g.ok("E18_zero_vector", {"x1": [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], "x2": [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]], "targets": [1.0, -1.0],
                             "reduction": "none", "gradient": True})
    g.ok("identical_vectors", {"x1": [[1.0, -2.0, 0.5], [3.0, 1.0, 1.0]], "x2": [[1.0, -2.0, 0.5], [3.0, 1.0, 1.0]], "targets": [1.0, -1.0],
                               "reduction": "none", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "x2", g.n(3, 5))
    r = mk(); r["targets"] = g.sign(4)
    g.err("targets_shape_mismatch", r, "shape_mismatch", "targets")


@builder("contrastive")
def b_con(g):
    mk = lambda: {"x1": g.n(4, 3, scale=0.5), "x2": g.n(4, 3, scale=0.5), "targets": np.array(g.ints(2, 4), float).tolist()}
    g.standard(mk, R3)
    g.variants(mk, [{"margin": 2.0}, {"margin": 0.5, "eps": 0.0}])
    same = [[1.0, 2.0], [0.5, -0.5]]
    g.ok("identical_embeddings", {"x1": same, "x2": same, "targets": [0.0, 1.0], "reduction": "none", "gradient": True})
    g.ok("identical_embeddings_eps0", {"x1": same, "x2": same, "targets": [0.0, 1.0], "reduction": "none", "gradient": True, "eps": 0.0})
    g.ok("E30_example", {"x1": [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [2.0, 0.0]], "x2": [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
                         "targets": [0.0, 1.0, 1.0, 1.0], "reduction": "mean", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "x2", g.n(4, 2))
    r = mk(); r["targets"] = [0.0, 1.0]
    g.err("targets_shape_mismatch", r, "shape_mismatch", "targets")


@builder("triplet_margin")
def b_tri(g):
    mk = lambda: {"anchor": g.n(4, 3), "positive": g.n(4, 3), "negative": g.n(4, 3)}
    g.standard(mk, R3, params={"margin": 2.0})
    g.standard(mk, ["mean"], tag="defaults_margin1")
    g.variants(mk, [{"p": 1, "margin": 3.0}, {"swap": True, "margin": 2.5}, {"eps": 0.0, "margin": 2.0}])
    g.ok("E20_anchor_equals_positive", {"anchor": [[0.0, 0.0]], "positive": [[0.0, 0.0]], "negative": [[0.5, 0.0]],
                                        "reduction": "mean", "gradient": True})
    g.ok("E20c_swap_example", {"anchor": [[0.0, 0.0]], "positive": [[1.0, 0.0]], "negative": [[1.8, 0.0]],
                               "reduction": "sum", "gradient": True, "swap": True, "margin": 1.0})
    g.defaults(mk)
    g.common_errors(mk, "positive", g.n(3, 3), foreign_param=("temperature", 0.5))
    r = mk(); r["negative"] = g.n(4, 2)
    g.err("negative_shape_mismatch", r, "shape_mismatch", "negative")


@builder("ntxent")
def b_nt(g):
    mk = lambda: {"x1": g.n(3, 4), "x2": g.n(3, 4)}
    g.standard(mk, R3, params={"temperature": 0.5})
    g.standard(mk, ["mean"], tag="default_temperature")
    g.variants(mk, [{"temperature": 1.0}, {"temperature": 0.2}], reds=("sum",))
    same = [[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]]
    g.ok("identical_pairs", {"x1": same, "x2": same, "reduction": "none", "gradient": True, "temperature": 0.5})
    g.ok("single_pair_N1", {"x1": [[1.0, 2.0]], "x2": [[-0.5, 0.3]], "reduction": "mean", "gradient": True})
    g.ok("zero_vector_row", {"x1": [[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]], "x2": [[1.0, 0.0, 1.0], [0.5, -1.0, 0.0]],
                             "reduction": "none", "gradient": True, "temperature": 0.5})
    g.defaults(mk)
    g.common_errors(mk, "x2", g.n(2, 4), foreign_param=("margin", 1.0))
    for v in (0.0, -0.1):
        r = mk(); r["temperature"] = v
        g.err(f"temperature_{v}", r, "invalid_parameter", "temperature")


BOX_EDGES = [
    ("identical", [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]),
    ("half_overlap", [0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]),
    ("disjoint", [0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]),
    ("touching_edge", [0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]),
    ("contained", [0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0]),
    ("zero_width_pred", [1.0, 0.0, 1.0, 2.0], [0.0, 0.0, 2.0, 2.0]),
    ("zero_height_pred", [0.0, 1.0, 2.0, 1.0], [0.0, 0.0, 2.0, 2.0]),
    ("both_points", [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]),
    ("point_vs_box", [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]),
    ("shared_left_edge", [0.0, 0.0, 2.0, 1.0], [0.0, 0.5, 1.0, 3.0]),
]


def box_builder(g):
    def boxes(n):
        xy = g.rng.uniform(0, 3, (n, 2))
        wh = g.rng.uniform(0.5, 3, (n, 2))
        return np.concatenate([xy, xy + wh], 1)

    def mk(n=4):
        b = boxes(n)
        t = b + g.rng.uniform(-0.6, 0.6, b.shape)
        t[:, 2:] = np.maximum(t[:, 2:], t[:, :2] + 0.2)
        return {"predictions": b.tolist(), "targets": t.tolist()}
    # CIoU holds alpha constant in the gradient (torchvision), so it is not the
    # derivative of the value: no finite-difference check for it.
    fd = g.loss != "ciou"
    g.standard(mk, R3, fd=fd)
    g.ok("random_disjoint_far", {"predictions": boxes(2).tolist(), "targets": (boxes(2) + 10.0).tolist(),
                                 "reduction": "mean", "gradient": True}, fd=fd)
    g.variants(mk, [{"eps": 0.5}], reds=("none",), fd=fd)
    p = [e[1] for e in BOX_EDGES]
    t = [e[2] for e in BOX_EDGES]
    for red in R3:
        g.ok(f"edges_{red}_f64", {"predictions": p, "targets": t, "reduction": red, "gradient": True})
    g.ok("edges_none_f32", {"predictions": p, "targets": t, "reduction": "none", "gradient": True, "dtype": "float32"})
    for nm, a, b in BOX_EDGES:
        g.ok(f"edge_{nm}", {"predictions": [a], "targets": [b], "reduction": "sum", "gradient": True})
    g.defaults(mk)
    g.common_errors(mk, "targets", mk(3)["targets"], foreign_param=("margin", 1.0))
    r = mk(); r["predictions"][1] = [2.0, 0.0, 0.0, 2.0]
    g.err("inverted_prediction_box", r, "out_of_domain", "predictions")
    r = mk(); r["targets"][2] = [0.0, 3.0, 1.0, 1.0]
    g.err("inverted_target_box", r, "out_of_domain", "targets")


for _n in ("box_iou", "giou", "diou", "ciou"):
    BUILDERS[_n] = box_builder


def mask_builder(g):
    loss = g.loss
    mk = lambda: {"predictions": g.u(2, 3, 3), "targets": np.array(g.ints(2, 2, 3, 3), float).tolist()}
    mk2 = lambda: {"predictions": g.u(3, 5), "targets": g.u(3, 5)}
    g.standard(mk, R3)
    g.standard(mk2, ["mean"], tag="soft_targets_2d")
    g.variants(mk, [{"smooth": 1.0}], reds=("none",))
    if loss == "tversky":
        g.variants(mk, [{"alpha": 0.7, "beta": 0.3}, {"gamma": 2.0}, {"alpha": 0.3, "beta": 0.7, "gamma": 0.75, "smooth": 0.5}])
    g.ok("empty_masks_both_zero", {"predictions": [[0.0, 0.0], [0.0, 0.0]], "targets": [[0.0, 0.0], [0.0, 0.0]],
                                   "reduction": "none", "gradient": True})
    g.ok("pred_zero_target_nonzero", {"predictions": [[0.0, 0.0, 0.0]], "targets": [[1.0, 0.0, 1.0]], "reduction": "mean", "gradient": True})
    g.ok("perfect_binary", {"predictions": [[1.0, 0.0, 1.0]], "targets": [[1.0, 0.0, 1.0]], "reduction": "sum", "gradient": True})
    g.ok("E25b_example", {"predictions": [[0.9, 0.2]], "targets": [[1.0, 0.0]], "reduction": "mean", "gradient": True}, fd=True)
    g.defaults(mk)
    g.common_errors(mk, "targets", g.u(2, 3, 2), foreign_param=("delta", 1.0))
    r = mk(); r["predictions"][0][1][1] = 1.2
    g.err("prob_outside_unit_interval", r, "out_of_domain", "predictions")
    if loss == "tversky":
        r = mk(); r["gamma"] = -1.0
        g.err("gamma_negative", r, "invalid_parameter", "gamma")


for _n in ("mask_iou", "dice", "tversky"):
    BUILDERS[_n] = mask_builder


def gan_builder(g):
    loss = g.loss
    two = loss in ("gan_discriminator", "wgan_critic", "lsgan_discriminator")
    prob = loss in ("gan_discriminator", "gan_generator")

    def mk(logits=False):
        if prob and not logits:
            r = {"real": g.u(4, lo=0.05, hi=0.95), "fake": g.u(2, 3, lo=0.05, hi=0.95)}
        else:
            r = {"real": g.n(4, scale=2.0), "fake": g.n(2, 3, scale=2.0)}
        if not two:
            del r["real"]
        return r
    g.standard(mk, R3)
    if prob:
        g.standard(lambda: {**mk(True), "from_logits": True}, R3, tag="logits")
        if loss == "gan_generator":
            g.variants(mk, [{"saturating": True}, {"saturating": True, "from_logits": True}] if False else [{"saturating": True}])
            g.variants(lambda: mk(True), [{"saturating": True, "from_logits": True}])
        e = {"real": [0.0, 1.0, 0.5], "fake": [1e-4, 0.5, 0.9999, 0.0, 1.0]}
        if not two:
            del e["real"]
        for red in R3:
            g.ok(f"E26_prob_clamps_{red}", {**e, "reduction": red, "gradient": True})
        if loss == "gan_generator":
            g.ok("E26_saturating_clamps", {**e, "reduction": "none", "gradient": True, "saturating": True})
        x = {"real": [-1000.0, 0.0, 1000.0], "fake": [-1000.0, 20.0, 1000.0]}
        if not two:
            del x["real"]
        for dt in ("float64", "float32"):
            g.ok(f"extreme_logits_{dt}", {**x, "reduction": "none", "gradient": True, "from_logits": True, "dtype": dt})
        if loss == "gan_generator":
            g.ok("extreme_logits_saturating", {**x, "reduction": "sum", "gradient": True, "from_logits": True, "saturating": True})
    g.ok("scalar_inputs", {**{k: 0.25 for k in mk()}, "reduction": "mean", "gradient": True}, fd=True)
    g.defaults(mk)
    r = mk(); r["reductoin"] = "mean"
    g.err("unknown_field_typo", r, "unknown_field", "reductoin")
    r = mk(); r["margin"] = 1.0
    g.err("unknown_field_margin", r, "unknown_field", "margin")
    r = mk(); r["reduction"] = "average"
    g.err("invalid_reduction", r, "invalid_parameter", "reduction")
    if prob:
        k = "real" if two else "fake"
        r = mk()
        leaf = r[k]
        while isinstance(leaf[0], list):
            leaf = leaf[0]
        leaf[-1] = 1.5
        g.err(f"{k}_prob_outside_unit_interval", r, "out_of_domain", k)
    if not prob:
        r = mk(); r["from_logits"] = True
        g.err("unknown_field_from_logits", r, "unknown_field", "from_logits")


for _n in ("gan_discriminator", "gan_generator", "wgan_critic", "wgan_generator", "lsgan_discriminator", "lsgan_generator"):
    BUILDERS[_n] = gan_builder


@builder("ctc")
def b_ctc(g):
    def mk(T=6, N=2, C=4, blank=0, S=3):
        lp = log_softmax(g, (T, N, C), axis=2)
        labels = [c for c in range(C) if c != blank]
        tgt = [[int(v) for v in g.rng.choice(labels, S)] for _ in range(N)]
        return {"predictions": lp, "targets": tgt, "input_lengths": [T] + [T - 1] * (N - 1), "target_lengths": [S] + [S - 1] * (N - 1)}
    g.standard(mk, R3)
    g.ok("blank_last_class", {**mk(blank=3), "blank": 3, "reduction": "mean", "gradient": True}, fd=True)
    g.ok("repeated_labels", {"predictions": log_softmax(g, (5, 1, 3), 2), "targets": [[1, 1]], "input_lengths": [5], "target_lengths": [2],
                             "reduction": "sum", "gradient": True}, fd=True)
    g.ok("target_length_zero", {"predictions": log_softmax(g, (4, 2, 3), 2), "targets": [[1, 2], [2, 1]], "input_lengths": [4, 3],
                                "target_lengths": [0, 2], "reduction": "mean", "gradient": True}, fd=True)
    g.ok("padding_after_length_ignored", {"predictions": log_softmax(g, (5, 2, 4), 2), "targets": [[1, 2, 3], [3, 0, 0]],
                                          "input_lengths": [5, 4], "target_lengths": [2, 1], "reduction": "none", "gradient": True}, fd=True)
    imp = {"predictions": log_softmax(g, (3, 2, 3), 2), "targets": [[1, 1, 2], [1, 2, 1]], "input_lengths": [3, 2], "target_lengths": [2, 3]}
    g.ok("E33b_impossible_zero_infinity", {**imp, "zero_infinity": True, "reduction": "mean", "gradient": True})
    g.ok("E33b_impossible_inf_none", {**imp, "reduction": "none", "gradient": False})
    g.ok("E33b_impossible_inf_mean", {**imp, "reduction": "mean", "gradient": False})
    g.defaults(mk)
    r = mk(); r["input_lengths"] = [6, 5, 5]
    g.err("input_lengths_shape_mismatch", r, "shape_mismatch", "input_lengths")
    r = mk(); r["reductoin"] = "mean"
    g.err("unknown_field_typo", r, "unknown_field", "reductoin")
    r = mk(); r["reduction"] = "average"
    g.err("invalid_reduction", r, "invalid_parameter", "reduction")
    r = mk(); r["targets"][0][1] = 4
    g.err("class_index_out_of_range", r, "out_of_domain", "targets")
    r = mk(); r["input_lengths"] = [7, 5]
    g.err("input_length_exceeds_T", r, "out_of_domain", "input_lengths")
    r = mk(); r["target_lengths"] = [4, 2]
    g.err("target_length_exceeds_S", r, "out_of_domain", "target_lengths")
    r = mk(); r["blank"] = 4
    g.err("blank_out_of_range", r, "invalid_parameter", "blank")


def listed_losses():
    """The names of core/loss_list.h, the one list of losses (`LOSS(family, name)` lines)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "loss_list.h")
    with open(path) as f:
        return [line.split(",")[1].strip(" )\n") for line in f if line.startswith("LOSS(")]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    only = set(sys.argv[2:])
    os.makedirs(outdir, exist_ok=True)
    missing = set(LOSSES) - set(BUILDERS)
    assert not missing, missing
    listed = listed_losses()
    assert set(LOSSES) == set(listed), (
        f"core/loss_list.h and LOSSES differ: not here {sorted(set(listed) - set(LOSSES))}, "
        f"not listed {sorted(set(LOSSES) - set(listed))}")
    total = 0
    for loss in LOSSES:
        if only and loss not in only:
            continue
        g = Gen(loss)
        BUILDERS[loss](g)
        path = g.write(outdir)
        nerr = sum(1 for c in g.cases if "error" in c)
        nfd = sum(1 for c in g.cases if c.get("fd"))
        size = os.path.getsize(path)
        total += size
        print(f"{loss:24s} {len(g.cases):3d} cases ({nerr:2d} errors, {nfd:2d} fd)  {size:7d} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
