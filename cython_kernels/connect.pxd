# cython: language_level=3
"""Construction of this rank's incoming synapses (declarations; see connect.pyx)."""
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t


cdef enum ConnectRule:
    RULE_COUNT_PER_TARGET = 0   # fixed_indegree, fixed_total_number (counts given per target)
    RULE_PAIRWISE_BERNOULLI = 1
    RULE_ONE_TO_ONE = 2
    RULE_ALL_TO_ALL = 3
    RULE_FIXED_OUTDEGREE = 4    # connect_outdegree: draws per source, kept on the targets' ranks
    RULE_SPATIAL_BERNOULLI = 5  # connect_spatial: distance-dependent pairwise_bernoulli
    RULE_EXPLICIT = 6           # place_edges: given (source, target, weight, delay) lists


cdef enum ConnectError:
    CONNECT_OK = 0
    ERR_NEGATIVE_COUNT = -1        # counts[t] < 0
    ERR_TOO_FEW_SOURCES = -2       # count > available sources (no multapses) or no source at all
    ERR_WEIGHT_REDRAW = -3         # weight distribution found no value inside its bounds
    ERR_DELAY_REDRAW = -4          # delay distribution found no value inside its bounds
    ERR_DELAY_RANGE = -5           # delay steps outside [1, 65535]
    ERR_ROW_RANGE = -6             # source gid beyond source_counts / fill_ptr
    ERR_FILL_OVERFLOW = -7         # fill_ptr points beyond the output arrays
    ERR_ONE_TO_ONE_RANGE = -8      # one_to_one target has no source of the same rank in population
    ERR_TOO_FEW_TARGETS = -9       # outdegree > available targets (no multapses) or no target


ctypedef struct SynapseSink:
    # where synapses go and how their weight / delay are drawn (all raw pointers, nogil)
    int mode                       # 0 = count, 1 = fill
    uint64_t seed
    uint32_t projection
    int weight_code
    double weight_params[4]
    int delay_code
    double delay_params[4]
    double dt                      # ms per step
    double steps_per_ms            # 1 / dt, as NEST's Range::STEPS_PER_MS
    int64_t* source_counts         # IN/OUT mode 0, indexed by source gid
    int64_t* fill_ptr              # IN/OUT mode 1, indexed by source gid
    int64_t n_rows                 # length of the array indexed by source gid
    uint32_t* out_target           # OUT mode 1
    double* out_weight             # OUT mode 1
    uint16_t* out_delay            # OUT mode 1
    int64_t out_len                # length of the three output arrays
    int64_t num_synapses           # OUT
    int64_t min_delay_steps        # OUT (fill mode)
    int64_t max_delay_steps        # OUT (fill mode)
    int error                      # OUT: a ConnectError
    int64_t error_gid              # OUT: the target gid where the error happened
    double error_value             # OUT: the offending value (delay in ms, count, ...)
    bint delay_linear              # delay = delay_offset + delay_slope * distance (ms)
    double delay_offset            # ms
    double delay_slope             # ms per mm
    double distance                # mm, of the synapse being emitted (spatial rules)
