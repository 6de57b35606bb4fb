"""The built-in models, each declared once: neuron models (brainsim.catalogue.neurons) and
synapse models (brainsim.catalogue.synapses). Validation, packing, recording, estimates,
checkpoints and the docs tables are derived from these declarations; equation models from
YAML (`neuron_models:`) become declarations of the same kind."""
