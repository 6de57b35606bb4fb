# cython: language_level=3
"""NEST parrot_neuron: declarations (see parrot_neuron.pyx). It has no parameters."""

cdef enum:
    PARROT_NUM_PARAMS = 0
