"""Equation-defined neuron models (`neuron_models:`, docs/model-format.md): units, parsing
and checking of one `neuron_models.<name>` mapping (parse), its analysis into a validated
IR (analysis), lowering to the code generator's KernelSpec (lower) and the NeuronModel
declaration populations use like a built-in's (declare); docs/architecture.md §13."""
