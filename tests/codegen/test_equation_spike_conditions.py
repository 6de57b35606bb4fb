"""The generated kernels of the shipped hh_psc_alpha and mat2_psc_exp, driven through
update() one step at a time: mat2_psc_exp against a Python twin of NEST's
mat2_psc_exp::update (its propagators, its order), hh_psc_alpha by what NEST's update
guarantees (spike when V_m >= 0 and falling, the counter honoured, no reset)."""
import math

import numpy as np

from equation_kernels import run

T_STEPS = 3000          # 300 ms at 0.1 ms


def mat2_twin(p, n_steps, ex, inh, current, dt=0.1):
    """NEST 3.10 models/mat2_psc_exp.cpp, pre_run_hook and update, in Python floats;
    current[step] is the i_0 the update of that step reads (the DC of the step before)."""
    h = dt
    omega = p["omega"] - p["E_L"]                      # NEST stores omega - E_L
    tau, c = p["tau_m"], p["C_m"]
    p11ex, p11in = math.exp(-h / p["tau_syn_ex"]), math.exp(-h / p["tau_syn_in"])
    p22_expm1 = math.expm1(-h / tau)
    p21ex = -tau / (c * (1.0 - tau / p["tau_syn_ex"])) * p11ex * math.expm1(
        h * (1.0 / p["tau_syn_ex"] - 1.0 / tau))
    p21in = -tau / (c * (1.0 - tau / p["tau_syn_in"])) * p11in * math.expm1(
        h * (1.0 / p["tau_syn_in"] - 1.0 / tau))
    p20 = -tau / c * p22_expm1
    p11th, p22th = math.exp(-h / p["tau_1"]), math.exp(-h / p["tau_2"])
    counts = round(p["t_ref"] / h)
    v = i_ex = i_in = th1 = th2 = 0.0
    r = 0
    spikes, vs, ths = [], [], []
    for step in range(n_steps):
        i_0 = current[step]
        v = v * p22_expm1 + v + i_ex * p21ex + i_in * p21in + (p["I_e"] + i_0) * p20
        th1 *= p11th
        th2 *= p22th
        i_ex *= p11ex
        i_in *= p11in
        i_ex += ex[step]
        i_in += inh[step]
        if r == 0:
            if v >= omega + th2 + th1:
                r = counts
                th1 += p["alpha_1"]
                th2 += p["alpha_2"]
                spikes.append(step)
        else:
            r -= 1
        vs.append(v + p["E_L"])
        ths.append(p["E_L"] + omega + th1 + th2)
    return spikes, np.array(vs), np.array(ths)


def mat2_inputs(seed=3):
    r = np.random.default_rng(seed)
    ex = np.where(r.random(T_STEPS) < 0.05, r.uniform(0, 900, T_STEPS), 0.0)
    inh = np.where(r.random(T_STEPS) < 0.03, -r.uniform(0, 700, T_STEPS), 0.0)
    current = np.where((np.arange(T_STEPS) > 500) & (np.arange(T_STEPS) < 2200), 250.0, 0.0)
    return ex, inh, current


def test_mat2_psc_exp_equals_its_nest_twin(generated_mat2_psc_exp):
    from equation_kernels import lowered
    ir, _ = lowered("mat2_psc_exp")
    p = {**{q.name: q.default for q in ir.parameters}, "I_e": 300.0}
    ex, inh, current = mat2_inputs()
    spikes, traces = run(generated_mat2_psc_exp, "mat2_psc_exp", p, T_STEPS, ex=ex,
                         inh=inh, current=current)
    want_spikes, want_v, want_th = mat2_twin(p, T_STEPS, ex, inh, current)
    assert len(spikes) > 10 and spikes == want_spikes
    threshold = p["omega"] + traces["V_th_alpha_1"] + traces["V_th_alpha_2"]
    print("mat2 V_m max error vs twin", np.max(np.abs(traces["V_m"] - want_v)),
          "V_th", np.max(np.abs(threshold - want_th)))
    assert np.max(np.abs(traces["V_m"] - want_v)) < 1e-11
    assert np.max(np.abs(threshold - want_th)) < 1e-11


def test_mat2_psc_exp_adapts_under_dc_and_never_resets(generated_mat2_psc_exp):
    zeros = np.zeros(T_STEPS)
    current = np.full(T_STEPS, 500.0)
    spikes, traces = run(generated_mat2_psc_exp, "mat2_psc_exp", {}, T_STEPS, ex=zeros,
                         inh=zeros, current=current)
    isi = np.diff(spikes)
    assert len(spikes) >= 5 and np.all(isi[1:] > isi[:-1])      # the threshold adapts
    v = traces["V_m"]
    assert np.all(np.diff(v) >= 0)      # V_m rises to E_L + I tau_m / C_m, never reset
    assert abs(v[-1] - (-70.0 + 500.0 * 5.0 / 100.0)) < 1e-6
    th1 = traces["V_th_alpha_1"]
    assert all(th1[s] - th1[s - 1] > 36.0 for s in spikes)      # jumps by alpha_1


def test_mat2_psc_exp_refractoriness_only_disables_the_threshold(generated_mat2_psc_exp):
    """Without adaptation V_m stays above omega: a spike every t_ref + 1 steps (the
    counter of 20 steps counts down, the step after it tests again), V_m untouched."""
    zeros = np.zeros(T_STEPS)
    p = {"alpha_1": 0.0, "alpha_2": 0.0, "I_e": 500.0, "t_ref": 2.0}
    spikes, traces = run(generated_mat2_psc_exp, "mat2_psc_exp", p, 600, ex=zeros,
                         inh=zeros, current=zeros)
    assert len(spikes) > 10 and set(np.diff(spikes)) == {21}
    r = traces["refractory"]
    assert all(r[s] == 20 and r[s + 20] == 0 for s in spikes[:-1])
    assert np.all(np.diff(traces["V_m"]) >= 0)


def test_hh_psc_alpha_spikes_repetitively_past_the_peak(generated_hh_psc_alpha):
    zeros = np.zeros(T_STEPS)
    spikes, traces = run(generated_hh_psc_alpha, "hh_psc_alpha", {"I_e": 800.0}, T_STEPS,
                         ex=zeros, inh=zeros, current=zeros)
    v, r = traces["V_m"], traces["refractory"]
    assert len(spikes) >= 15
    for s in spikes:
        assert v[s] >= 0.0 and v[s - 1] > v[s] and v[s - 1] >= v[s - 2]   # just past the peak
        assert r[s] == 20 and list(r[s + 1:s + 21]) == list(range(19, -1, -1))
        assert v[s + 1] > -20.0              # no reset: V_m falls on its own
    isi = np.diff(spikes[2:])
    assert isi.max() - isi.min() <= 2        # regular firing
    # every peak above 0 mV is one spike
    peaks = [k for k in range(1, T_STEPS - 1) if v[k] >= 0 > v[k + 1] - v[k]
             and v[k - 1] <= v[k]]
    assert len(peaks) == len(spikes)


def test_hh_psc_alpha_refractory_counter_skips_peaks(generated_hh_psc_alpha):
    """t_ref longer than the period: the next peak comes while the counter runs and is no
    spike; the dynamics go on (that peak still reaches above 0 mV)."""
    zeros = np.zeros(T_STEPS)
    free_spikes, free = run(generated_hh_psc_alpha, "hh_psc_alpha", {"I_e": 800.0}, T_STEPS,
                            ex=zeros, inh=zeros, current=zeros)
    spikes, traces = run(generated_hh_psc_alpha, "hh_psc_alpha",
                         {"I_e": 800.0, "t_ref": 20.0}, T_STEPS, ex=zeros, inh=zeros,
                         current=zeros)
    np.testing.assert_array_equal(traces["V_m"], free["V_m"])   # t_ref changes no dynamics
    assert np.diff(free_spikes).max() < 200 and np.all(np.diff(spikes) > 200)
    assert set(spikes) < set(free_spikes)         # the peaks outside t_ref still spike
    assert np.sum((traces["V_m"][1:] >= 0) & (traces["V_m"][:-1] < 0)) > len(spikes)


def test_hh_psc_alpha_inhibitory_weights_keep_their_sign(generated_hh_psc_alpha):
    n = 400
    ex, inh, zeros = np.zeros(n), np.zeros(n), np.zeros(n)
    inh[50] = -400.0
    ex[200] = 700.0
    _, traces = run(generated_hh_psc_alpha, "hh_psc_alpha", {}, n, ex=ex, inh=inh,
                    current=zeros)
    i_in, i_ex = traces["I_syn_in"], traces["I_syn_ex"]
    assert i_in.min() < -300.0 and np.all(i_in <= 0) and i_in[49] == 0.0
    # alpha current peaking at the weight tau_syn after the spike
    assert abs(i_in.min() - -400.0) < 1.0 and abs(int(np.argmin(i_in)) - (50 + 20)) <= 1
    assert abs(i_ex.max() - 700.0) < 5.0
    _, rest = run(generated_hh_psc_alpha, "hh_psc_alpha", {}, n, ex=zeros, inh=zeros,
                  current=zeros)
    assert traces["V_m"][60] < rest["V_m"][60]        # inhibition hyperpolarises
