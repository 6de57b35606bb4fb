"""Equation-defined neuron models (issue #13): units, parsing and checking of one
`neuron_models.<name>` mapping into a validated IR. Populations cannot use them yet."""
