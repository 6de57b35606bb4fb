#!/usr/bin/env python3
"""Pure-Python re-implementation of NEST 3.10's grid update rules (see NOTES.md),
checked against ``nest_reference.json``.  Needs only numpy, not NEST.

It documents, in executable form, the update order and propagators that reproduce
NEST bit for bit (spike steps identical; V_m traces identical or within 1e-13 mV,
where differences come only from the summation order of several inputs arriving
in the same step).  Run:  python3 tests/reference/check_rules_pure_python.py
"""
import json
import math
import os

import numpy as np

H = 0.1
HERE = os.path.dirname(os.path.abspath(__file__))


def p32_exp(tau_syn, tau_m, c_m, h=H):
    """NEST PropagatorExp::evaluate (libnestutil/propagator_stability.cpp)."""
    gamma = tau_syn * tau_m / (tau_m - tau_syn) / c_m
    p32 = gamma * math.exp(-h / tau_syn) * math.expm1(-h / tau_m + h / tau_syn)
    if abs(tau_m - tau_syn) < 0.1:
        exp_h_tau = math.exp(-h / tau_m)
        singular = h / c_m * exp_h_tau
        if tau_m == tau_syn:
            p32 = singular
        else:
            linear = (tau_syn - tau_m) / (c_m * tau_m * tau_m) * h * h * exp_h_tau / 2.0
            if abs(p32 - singular) > 2 * abs(linear):
                p32 = singular
    return p32


class Neuron:
    def __init__(self, model, p):
        self.model, self.p = model, p
        self.y = p["V_m"] - p["E_L"]          # NEST keeps V_m relative to E_L
        self.theta = p["V_th"] - p["E_L"]
        self.reset = p["V_reset"] - p["E_L"]
        self.ref_counts = int(round(p["t_ref"] / H))
        self.r = 0
        self.i0 = 0.0                          # dc current read in the previous step
        self.iex = self.iin = 0.0
        tm, c = p["tau_m"], p["C_m"]
        if model == "iaf_psc_exp":
            self.P22 = math.exp(-H / tm)
            self.P20 = tm / c * (1.0 - self.P22)
            self.P11e = math.exp(-H / p["tau_syn_ex"])
            self.P11i = math.exp(-H / p["tau_syn_in"])
            self.P21e = p32_exp(p["tau_syn_ex"], tm, c)
            self.P21i = p32_exp(p["tau_syn_in"], tm, c)
        else:  # iaf_psc_delta
            self.P33 = math.exp(-H / tm)
            self.P30 = 1.0 / c * (1.0 - self.P33) * tm

    def step(self, in_ex, in_in, cur):
        """One update of step s. in_ex/in_in: summed weights due in this step's slot,
        cur: dc current due in this slot (takes effect in the next step). Returns spike?"""
        p = self.p
        if self.model == "iaf_psc_exp":
            if self.r == 0:
                self.y = (self.y * self.P22 + self.iex * self.P21e + self.iin * self.P21i
                          + (p["I_e"] + self.i0) * self.P20)
            else:
                self.r -= 1
            self.iex *= self.P11e
            self.iin *= self.P11i
            self.iex += in_ex
            self.iin += in_in
        else:
            if self.r == 0:
                self.y = self.P30 * (self.i0 + p["I_e"]) + self.P33 * self.y + (in_ex + in_in)
                self.y = max(self.y, p["V_min"] - p["E_L"])
            else:
                self.r -= 1  # input arriving while refractory is discarded
        fired = self.y >= self.theta
        if fired:
            self.r = self.ref_counts
            self.y = self.reset
        self.i0 = cur
        return fired

    @property
    def V(self):
        return self.y + self.p["E_L"]


def run(case):
    n_steps = int(round(case["t_sim_ms"] / H))
    if "neurons" in case:
        names = case["neurons"]
        params = case["params"]
        conns = case["connections"]
    else:
        names, params, conns = ["N"], {"N": case["params"]}, []
    neurons = [Neuron(case["model"], params[k]) for k in names]
    idx = {k: i for i, k in enumerate(names)}
    ring = np.zeros((n_steps + 200, len(names), 3))  # ex, in, current
    dc = case.get("dc_generator")
    if dc:  # rule: emission step t active iff a-1 <= t <= b-2 (t >= 0); slot t + d
        a = int(round(dc["start"] / H))
        b = n_steps + 10 if dc["stop"] is None else int(round(dc["stop"] / H))
        d = int(round(dc["delay"] / H))
        for t in range(max(a - 1, 0), min(b - 2, n_steps) + 1):
            ring[t + d, 0, 2] += dc["amplitude"] * dc["weight"]
    sg = case.get("spike_generator")
    if sg:  # spike at time t_s (grid) with delay d lands in slot round((t_s+d)/h) - 1
        for ts in sg["spike_times"]:
            w = sg["weight"]
            ring[int(round((ts + sg["delay"]) / H)) - 1, 0, 0 if w > 0 else 1] += w
    spikes = {k: [] for k in names}
    vtr = {k: [] for k in names}
    for s in range(n_steps):
        for i, nrn in enumerate(neurons):
            if nrn.step(ring[s, i, 0], ring[s, i, 1], ring[s, i, 2]):
                spikes[names[i]].append(s + 1)
                for c in conns:   # spike stamped s+1, delay d -> target slot s + d
                    if c["source"] == names[i]:
                        w = c["weight"]
                        ring[s + int(round(c["delay"] / H)), idx[c["target"]], 0 if w > 0 else 1] += w
            vtr[names[i]].append(nrn.V)
    return spikes, vtr


def main():
    with open(os.path.join(HERE, "nest_reference.json")) as f:
        ref = json.load(f)
    ok_all = True
    for name, case in ref["cases"].items():
        spikes, vtr = run(case)
        if isinstance(case["spike_steps"], dict):
            ok = all(spikes[k] == case["spike_steps"][k] for k in case["neurons"])
            traces = {k: v for k, v in case.get("vm_V_m", {}).items()}
        else:
            ok = spikes["N"] == case["spike_steps"]
            traces = {"N": case["vm_V_m"]} if "vm_V_m" in case else {}
        dv = 0.0
        for k, v in traces.items():
            v = np.asarray(v)
            dv = max(dv, float(np.abs(np.asarray(vtr[k][:len(v)]) - v).max()))
        ok_all &= ok and dv < 1e-10
        print(f"{name:40s} spikes {'OK ' if ok else 'DIFF'}  max|dV_m| {dv:.2e}")
    print("ALL OK" if ok_all else "MISMATCH")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
