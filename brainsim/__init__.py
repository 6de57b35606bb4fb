"""brainsim: distributed spiking network simulation with NEST semantics."""
__version__ = "0.1.0"
