"""The error for what brainsim.pynn does not run: a NotImplementedError, as PyNN's
backends raise (PyNN has no subclass of its own), with a message saying what and why."""


class NotSupportedByBrainsim(NotImplementedError):
    pass
