# cython: language_level=3
"""Spike delivery into ring buffers: declarations (see delivery.pyx)."""
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t


cdef int64_t deliver_core(const uint64_t[::1] spike_keys, int64_t n_spikes,
                          int64_t epoch_first_step, const int64_t[::1] row_ptr,
                          const uint32_t[::1] targets, const double[::1] weights,
                          const uint16_t[::1] delay_steps,
                          double[:, :, ::1] ring) noexcept nogil


cdef int64_t deliver_addressed_core(const uint64_t[::1] spike_keys, int64_t n_spikes,
                                    int64_t epoch_first_step, const int64_t[::1] row_ptr,
                                    const uint32_t[::1] targets, const double[::1] weights,
                                    const uint16_t[::1] delay_steps,
                                    double[:, :, ::1] ring) noexcept nogil
