"""PyNN's own system-test scenarios against brainsim.pynn (tests/pynn/scenario_runner.py).

The scenarios ship only in PyNN's source distribution: BRAINSIM_PYNN_SCENARIOS names its
test/system/scenarios directory, else the sdist of the installed PyNN is fetched once into a
cache (tests/pynn/pynn_sources.py). The scenarios listed in PASSING must pass;
docs/pynn.md lists the others and why they fail.
"""

import pytest

pyNN = pytest.importorskip("pyNN")

PASSING = {
    "test__simulation_control": ["test_reset", "test_reset_with_clear",
                                 "test_reset_with_spikes", "test_run_until", "test_setup"],
    "test_cell_types": ["test_EIF_cond_alpha_isfa_ista"],
    "test_connection_handling": ["test_connection_access_weight_and_delay",
                                 "test_connections_attribute", "test_issue652",
                                 "test_issue672"],
    "test_connectors": ["test_all_to_all_static_no_self", "test_fixed_number_post_no_replacement",
                        "test_fixed_number_post_with_replacement",
                        "test_fixed_number_pre_no_replacement",
                        "test_fixed_number_pre_with_replacement", "test_issue309",
                        "test_issue622"],
    "test_electrodes": ["test_issue165", "test_issue483", "test_ticket226"],
    "test_issue231": ["test_issue231"],
    "test_issue274": ["test_issue274"],
    "test_parameter_handling": ["test_issue241", "test_issue302", "test_issue505",
                                "test_set_synaptic_parameters_multiply_connected"],
    "test_procedural_api": ["test_ticket195"],
    "test_recording": ["test_issue499", "test_mix_procedural_and_oo",
                       "test_record_vm_and_gsyn_from_assembly", "test_sampling_interval"],
    "test_scenario1": ["test_scenario1a"],
}


def _scenarios():
    """One param per passing scenario; when the sdist cannot be had, one param carrying
    the reason, so that the test fails saying why instead of silently running nothing."""
    from pynn_sources import ScenariosUnavailable, scenarios_dir
    from scenario_runner import load_scenarios
    try:
        found = load_scenarios(scenarios_dir(pyNN.__version__))
    except ScenariosUnavailable as err:
        return [pytest.param(err, id="scenarios-unavailable")]
    return [pytest.param(fn, id=f"{module}::{name}") for module, name, fn in found
            if name in PASSING.get(module, ())]


def test_every_listed_scenario_is_found():
    found = {param.id for param in _scenarios()}
    listed = {f"{module}::{name}" for module, names in PASSING.items() for name in names}
    assert listed <= found, sorted(listed - found)


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario_passes(scenario, tmp_path, monkeypatch):
    import brainsim.pynn as sim
    from scenario_runner import run_scenario
    if isinstance(scenario, Exception):
        pytest.fail(str(scenario))
    monkeypatch.chdir(tmp_path)      # scenarios write their files into the working directory
    outcome, reason = run_scenario(scenario, sim)
    assert outcome == "passed", reason
