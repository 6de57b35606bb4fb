"""Pure-Python twins of the kernels for iaf_psc_alpha, izhikevich, parrot_neuron,
iaf_cond_exp, iaf_cond_alpha and aeif_cond_exp (test oracles only), and NEURON_TWINS, the
registry of every neuron model's twin (iaf_psc_exp and iaf_psc_delta: kernel_twins).

Each follows its kernel's documented operations in the same order; the RKF45 twin is a
plain port of GSL's rkf45 / standard control / evolve_apply.
"""
import math
from dataclasses import dataclass
from typing import Callable

from kernel_twins import _dc_at, _stim, iaf_psc_delta_twin, iaf_psc_exp_twin, poisson_count


def step_input(s, i, gid, seg, ring, inputs, seed):
    """(in_ex, in_in) read at step s: ring slot then Poisson terms by sign; clears the slot."""
    slot = s % ring.shape[0]
    in_ex, in_in = ring[slot, i, 0], ring[slot, i, 1]
    for q in range(len(inputs["poisson_seg"])):
        if inputs["poisson_seg"][q] != seg:
            continue
        e = s - int(inputs["poisson_delay_steps"][q])
        if inputs["poisson_first_step"][q] <= e < inputs["poisson_stop_step"][q]:
            w = float(inputs["poisson_weight"][q])
            c = float(poisson_count(seed, int(inputs["poisson_item"][q]), gid, e,
                                    float(inputs["poisson_lambda"][q])))
            if w >= 0.0:
                in_ex = in_ex + c * w
            else:
                in_in = in_in + c * w
    ring[slot, i, :] = 0.0
    return in_ex, in_in


def run_twin(step_fn, names, seg_begin, seg_end, seg_params, state, ring, local_gids, inputs,
             first_step, n_steps, seed, i_ext=None):
    """Drive a per-neuron step function over segments and steps; returns spike keys.
    Step functions read x["i_0"] as the current generators' input of the step: the DC, plus
    i_ext[j, i] (pA) when given; after the step i_0 is the DC read for the next step."""
    keys = []
    for seg in range(len(seg_begin)):
        p = seg_params[seg]
        for i in range(seg_begin[seg], seg_end[seg]):
            x = {k: state[k][i] for k in names}
            gid = int(local_gids[i])
            for j in range(n_steps):
                s = first_step + j
                in_ex, in_in = step_input(s, i, gid, seg, ring, inputs, seed)
                if "i_0" in x:
                    x["i_0"] = _stim(x["i_0"], i_ext, j, i)
                n = step_fn(p, x, in_ex, in_in)
                keys += [(j << 32) | gid] * n
                if "i_0" in x:
                    x["i_0"] = _dc_at(s, seg, inputs)
            for k in names:
                state[k][i] = x[k]
    return keys


def iaf_psc_alpha_step(p, x, in_ex, in_in):
    (P11ex, P11in, P21ex, P21in, P30, P31ex, P32ex, P31in, P32in, expm1_tau_m, epsc, ipsc,
     I_e, theta, V_reset, lower, refr) = p
    if x["refractory"] == 0:
        V = (P30 * (x["i_0"] + I_e) + P31ex * x["di_syn_ex"] + P32ex * x["i_syn_ex"]
             + P31in * x["di_syn_in"] + P32in * x["i_syn_in"] + expm1_tau_m * x["V_m"] + x["V_m"])
        x["V_m"] = lower if V < lower else V
    else:
        x["refractory"] -= 1
    x["i_syn_ex"] = P21ex * x["di_syn_ex"] + P11ex * x["i_syn_ex"]
    x["di_syn_ex"] = x["di_syn_ex"] * P11ex + epsc * in_ex
    x["i_syn_in"] = P21in * x["di_syn_in"] + P11in * x["i_syn_in"]
    x["di_syn_in"] = x["di_syn_in"] * P11in + ipsc * in_in
    if x["V_m"] >= theta:
        x["refractory"] = int(refr)
        x["V_m"] = V_reset
        return 1
    return 0


def izhikevich_step(p, x, in_ex, in_in):
    a, b, c, d, I_e, V_th, V_min, consistent, h = p
    inp = in_ex + in_in
    V, U, i0 = x["V_m"], x["U_m"], x["i_0"]
    if consistent:
        V_new = V + (h * (0.04 * V * V + 5.0 * V + 140.0 - U + i0 + I_e) + inp)
        U = U + h * a * (b * V - U)
        V = V_new
    else:
        V = V + h * 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + i0 + I_e + inp)
        V = V + h * 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + i0 + I_e + inp)
        U = U + h * a * (b * V - U)
    V = V_min if V < V_min else V
    n = 0
    if V >= V_th:
        V, U, n = c, U + d, 1
    x["V_m"], x["U_m"] = V, U
    return n


def parrot_step(p, x, in_ex, in_in):
    return max(0, int(in_ex - in_in + 0.5))


# ----------------------------------------------------------------------------- RKF45 (GSL)
def rkf45_step(rhs, y, h, k1):
    n = len(y)
    k2 = rhs([y[i] + 0.25 * h * k1[i] for i in range(n)])
    k3 = rhs([y[i] + h * (3 / 32 * k1[i] + 9 / 32 * k2[i]) for i in range(n)])
    k4 = rhs([y[i] + h * (1932 / 2197 * k1[i] - 7200 / 2197 * k2[i] + 7296 / 2197 * k3[i])
              for i in range(n)])
    k5 = rhs([y[i] + h * (8341 / 4104 * k1[i] - 32832 / 4104 * k2[i] + 29440 / 4104 * k3[i]
                          - 845 / 4104 * k4[i]) for i in range(n)])
    k6 = rhs([y[i] + h * (-6080 / 20520 * k1[i] + 41040 / 20520 * k2[i]
                          - 28352 / 20520 * k3[i] + 9295 / 20520 * k4[i]
                          - 5643 / 20520 * k5[i]) for i in range(n)])
    out = [y[i] + h * (902880 / 7618050 * k1[i] + 3953664 / 7618050 * k3[i]
                       + 3855735 / 7618050 * k4[i] - 1371249 / 7618050 * k5[i]
                       + 277020 / 7618050 * k6[i]) for i in range(n)]
    err = [h * ((1 / 360) * k1[i] + (-128 / 4275) * k3[i] + (-2197 / 75240) * k4[i] + (1 / 50) * k5[i]
                + 2 / 55 * k6[i]) for i in range(n)]
    return out, err, rhs(out)


def evolve_apply(rhs, t, t1, h, y, eps_abs, eps_rel, a_y, a_dydt):
    """One accepted GSL step; returns (t, h, y)."""
    k1 = rhs(y)
    h0, dt = h, t1 - t
    while True:
        final = h0 > dt
        if final:
            h0 = dt
        y_new, err, yp = rkf45_step(rhs, y, h0, k1)
        t_new = t1 if final else t + h0
        rmax = max([2.2250738585072014e-308] + [
            abs(err[i]) / abs(eps_rel * (a_y * abs(y_new[i]) + a_dydt * abs(h0 * yp[i]))
                              + eps_abs) for i in range(len(y))])
        if rmax > 1.1:
            h_new = max(0.9 / rmax ** (1 / 5), 0.2) * h0
            if abs(h_new) < abs(h0) and t_new + h_new != t_new:
                h0 = h_new
                continue
            return t_new, h0, y_new
        if rmax < 0.5:
            h0 = min(max(0.9 / rmax ** (1 / 6), 1.0), 5.0) * h0
        return t_new, h0, y_new


def _cond_rhs(p, refractory, I_stim, alpha):
    V_th, V_reset, E_ex, E_in, E_L, g_L, C_m, tau_ex, tau_in, I_e = p[:10]

    def rhs(y):
        V = V_reset if refractory else min(y[0], V_th)
        g_ex, g_in = (y[2], y[4]) if alpha else (y[1], y[2])
        dV = 0.0 if refractory else (-g_L * (V - E_L) - g_ex * (V - E_ex) - g_in * (V - E_in)
                                     + I_stim + I_e) / C_m
        if alpha:
            return [dV, -y[1] / tau_ex, y[1] - y[2] / tau_ex, -y[3] / tau_in,
                    y[3] - y[4] / tau_in]
        return [dV, -y[1] / tau_ex, -y[2] / tau_in]
    return rhs


def cond_step(alpha):
    def step(p, x, in_ex, in_in):
        E_L, V_th, V_reset, refr, dt = p[4], p[0], p[1], int(p[10]), p[11]
        names = ("V_m", "dg_ex", "g_ex", "dg_in", "g_in") if alpha else ("V_m", "g_ex", "g_in")
        y = [x[k] for k in names]
        y[0] = y[0] + E_L
        h = x["ode_h"] if x["ode_h"] > 0 else dt
        rhs = _cond_rhs(p, x["refractory"] > 0, x["i_0"], alpha)
        t = 0.0
        while t < dt:
            t, h, y = evolve_apply(rhs, t, dt, h, y, 1e-3, 0.0, 1.0, 0.0)
        n = 0
        if not alpha:
            y[1] += in_ex
            y[2] -= in_in
        if x["refractory"] > 0:
            x["refractory"] -= 1
            y[0] = V_reset
        elif y[0] >= V_th:
            x["refractory"], y[0], n = refr, V_reset, 1
        if alpha:
            y[1] += in_ex * p[12]
            y[3] += -in_in * p[13]
        y[0] = y[0] - E_L
        for k, v in zip(names, y):
            x[k] = v
        x["ode_h"] = h
        return n
    return step


def aeif_step(p, x, in_ex, in_in):
    (V_peak, V_spike, V_reset, V_th, E_ex, E_in, E_L, g_L, C_m, Delta_T, tau_w, a, b,
     tau_ex, tau_in, I_e, tol, refr, dt) = p
    refr = int(refr)
    y = [x["V_m"] + E_L, x["g_ex"], x["g_in"], x["w"]]
    h = x["ode_h"] if x["ode_h"] > 0 else dt     # NEST 3.10: the first step is the resolution
    r, n, t = x["refractory"], 0, 0.0

    def make_rhs(refractory):
        def rhs(y):
            V = V_reset if refractory else min(y[0], V_peak)
            spike = 0.0 if Delta_T == 0 else g_L * Delta_T * math.exp((V - V_th) / Delta_T)
            dV = 0.0 if refractory else (-g_L * (V - E_L) + spike - y[1] * (V - E_ex)
                                         - y[2] * (V - E_in) - y[3] + I_e + x["i_0"]) / C_m
            return [dV, -y[1] / tau_ex, -y[2] / tau_in, (a * (V - E_L) - y[3]) / tau_w]
        return rhs
    while t < dt:
        t, h, y = evolve_apply(make_rhs(r > 0), t, dt, h, y, tol, tol, 0.0, 1.0)
        if r > 0:
            y[0] = V_reset
        elif y[0] >= V_spike:
            y[0], y[3] = V_reset, y[3] + b
            r = refr + 1 if refr > 0 else 0
            n += 1
    if r > 0:
        r -= 1
    y[1] += in_ex
    y[2] -= in_in
    x["V_m"], x["g_ex"], x["g_in"], x["w"] = y[0] - E_L, y[1], y[2], y[3]
    x["refractory"], x["ode_h"] = r, h
    return n


@dataclass(frozen=True)
class NeuronTwin:
    """The Python twin of one neuron model's kernel: the twin itself (a whole-epoch twin,
    or a per-neuron step function for run_twin), the name the test module calls it by, and
    the test module in tests/kernels that runs kernel and twin side by side."""
    twin: Callable
    called_as: str
    test_module: str


# One twin per declared neuron model (tests/unit/test_neuron_catalogue.py requires it).
NEURON_TWINS = {
    "iaf_psc_exp": NeuronTwin(iaf_psc_exp_twin, "tw.iaf_psc_exp_twin", "test_neurons.py"),
    "iaf_psc_delta": NeuronTwin(iaf_psc_delta_twin, "tw.iaf_psc_delta_twin",
                                "test_neurons.py"),
    "iaf_psc_alpha": NeuronTwin(iaf_psc_alpha_step, "mt.iaf_psc_alpha_step",
                                "test_new_models.py"),
    "iaf_cond_exp": NeuronTwin(cond_step(False), "mt.cond_step", "test_new_models.py"),
    "iaf_cond_alpha": NeuronTwin(cond_step(True), "mt.cond_step", "test_new_models.py"),
    "aeif_cond_exp": NeuronTwin(aeif_step, "mt.aeif_step", "test_new_models.py"),
    "izhikevich": NeuronTwin(izhikevich_step, "mt.izhikevich_step", "test_new_models.py"),
    "parrot_neuron": NeuronTwin(parrot_step, "mt.parrot_step", "test_new_models.py"),
}
