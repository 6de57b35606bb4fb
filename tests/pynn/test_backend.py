"""brainsim.pynn runs PyNN scripts: spikes of single neurons equal NEST's (reference
values from pyNN.nest 0.13 on NEST 3.10, spike_precision on_grid), runs continue, the
unsupported is refused with PyNN's NotImplementedError."""
import numpy as np
import pytest

sim = pytest.importorskip("brainsim.pynn", exc_type=ImportError)
from pyNN import errors  # noqa: E402


def _times(population):
    return [list(np.round(st.times.magnitude, 6))
            for st in population.get_data().segments[0].spiketrains]


def test_dc_driven_neurons_and_a_spike_source_spike_as_in_nest():
    sim.setup(timestep=0.1, min_delay=0.1)
    p = sim.Population(3, sim.IF_curr_exp(i_offset=[0.5, 1.0, 2.0]))
    q = sim.Population(2, sim.IF_cond_exp())
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 10.0, 20.0, 20.5]))
    sim.Projection(src, q, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=1.5))
    sim.Projection(p, q, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.02, delay=1.0),
                   receptor_type='inhibitory')
    p.record('spikes')
    q.record('v')
    src.record('spikes')
    sim.run(100.0)
    assert _times(p) == [[], [27.8, 55.7, 83.6],
                         [9.5, 19.1, 28.7, 38.3, 47.9, 57.5, 67.1, 76.7, 86.3, 95.9]]
    assert _times(src) == [[5.0, 10.0, 20.0, 20.5]]
    v = q.get_data().segments[0].analogsignals[0].magnitude
    assert v.shape == (1001, 2)
    # pyNN.nest: V_m of q at 10 and 20 ms; brainsim reports float32 samples
    np.testing.assert_allclose(v[100], [-58.00690973879183] * 2, atol=1e-5)
    np.testing.assert_allclose(v[200], [-59.09770356681571] * 2, atol=1e-5)
    sim.end()


def test_runs_continue_and_reset_starts_again():
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0))
    p.record('spikes')
    sim.run(60.0)
    sim.run(40.0)
    assert sim.get_current_time() == pytest.approx(100.0)
    assert _times(p) == [[27.8, 55.7, 83.6]]
    sim.reset()
    sim.run(30.0)
    block = p.get_data()
    assert len(block.segments) == 2
    assert [list(st.times.magnitude) for st in block.segments[1].spiketrains] == [[27.8]]


def test_a_change_after_the_start_is_refused_until_reset():
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0))
    sim.run(10.0)
    p.set(i_offset=2.0)
    with pytest.raises(NotImplementedError, match="changed after the simulation"):
        sim.run(10.0)
    sim.reset()
    p.record('spikes')
    sim.run(30.0)
    first = p.get_data().segments[-1].spiketrains[0].times[0]
    assert float(first) < 27.8        # the stronger current, from time 0


def test_poisson_sources_drive_a_fixed_probability_network():
    sim.setup(timestep=0.1, min_delay=1.0, rng_seed=7)
    noise = sim.Population(20, sim.SpikeSourcePoisson(rate=50.0))
    cells = sim.Population(10, sim.IF_curr_alpha())
    prj = sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.5,
                         rng=sim.NumpyRNG(seed=1)), sim.StaticSynapse(weight=0.5, delay=1.0))
    noise.record('spikes')
    sim.run(200.0)
    counts = noise.get_spike_counts()
    assert 100 < sum(counts.values()) < 300       # 20 x 50 Hz x 0.2 s = 200
    assert len(prj) == len(prj.get('weight', format='list'))
    np.testing.assert_allclose(prj.get('weight', format='array')[~np.isnan(
        prj.get('weight', format='array'))], 0.5)


def test_unsupported_types_raise_pynn_errors():
    sim.setup()
    with pytest.raises(NotImplementedError, match="hh_cond_exp_traub"):
        sim.HH_cond_exp()
    with pytest.raises(NotImplementedError, match="dendritic"):
        sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                          weight_dependence=sim.AdditiveWeightDependence(),
                          dendritic_delay_fraction=0.5)


def test_stdp_network_spikes_as_in_nest():
    """SpikePairRule + Additive onto IF_curr_exp (NEST stdp_synapse, mu 0): the weights
    fall and the post spikes stop as with pyNN.nest (reference printed by pyNN.nest 0.13,
    NEST 3.10, on_grid)."""
    sim.setup(timestep=0.1, min_delay=0.1)
    pre = sim.Population(5, sim.SpikeSourceArray(
        spike_times=[[5.0 + 7 * i + k for i in range(40)] for k in range(5)]))
    post = sim.Population(2, sim.IF_curr_exp(i_offset=[0.3, 0.6]))
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.05,
                                            A_minus=0.06),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=2.0),
        weight=0.5, delay=1.0)
    sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    post.record('spikes')
    sim.run(300.0)
    assert _times(post) == [[17.2, 26.2, 35.4, 44.4, 53.2, 63.1, 74.5, 92.2],
                            [15.0, 22.8, 30.1, 37.2, 44.2, 51.3, 58.7, 66.4, 74.9, 86.2, 104.8]]


def test_stdp_onto_a_model_without_spike_history_is_refused():
    sim.setup()
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    post = sim.Population(1, sim.IF_cond_exp())
    sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(),
        weight_dependence=sim.MultiplicativeWeightDependence(), weight=0.01))
    with pytest.raises(NotImplementedError, match="keeps no spike history"):
        sim.run(10.0)
