# cython: language_level=3
"""Embedded Runge-Kutta-Fehlberg 4(5) with adaptive step size, as GSL's ``gsl_odeiv``
(``gsl_odeiv_step_rkf45`` + ``gsl_odeiv_control_standard`` + ``gsl_odeiv_evolve_apply``),
which NEST uses for its conductance-based models. Written for small systems (dim <= 8),
``noexcept nogil``, no allocation.

One call of ``evolve_apply`` is one *accepted* Runge-Kutta step from t towards t1, exactly
as GSL's: the step h is cut to t1 - t (and the call is then the final one, t becomes t1),
the step is retried with a smaller h while the error estimate exceeds the tolerance by more
than 10 %, and the step size suggested for the next call is written back to h. Error
control (GSL's standard control with eps_abs, eps_rel, a_y, a_dydt):

    D_i = eps_rel * (a_y |y_i| + a_dydt h |y'_i|) + eps_abs,  r = max_i |err_i| / D_i
    r > 1.1:  h *= max(0.9 r^(-1/5), 0.2), retry (if that changes h and t + h != t)
    r < 0.5:  h *= min(max(0.9 r^(-1/6), 1), 5) for the next step

``integrate_dt`` is NEST's loop ``while (t < dt) gsl_odeiv_evolve_apply(...)`` for models
without events inside the step (iaf_cond_exp, iaf_cond_alpha).
"""
from libc.math cimport fabs, pow

cdef enum:
    RKF45_MAX_DIM = 8


ctypedef struct OdeArgs:
    # everything the right-hand side reads besides y
    const double* p                # the segment's parameter row
    int refractory                 # > 0: clamped (NEST's is_refractory)
    double I_stim                  # pA, DC input of this step


ctypedef void (*rhs_fn)(const double* y, double* f, const OdeArgs* a) noexcept nogil


cdef inline void rkf45_step(rhs_fn rhs, const OdeArgs* a, int dim, double h,
                            double* y,                # IN/OUT state
                            double* yerr,             # OUT error estimate
                            const double* dydt_in,    # IN  f(y) at the start
                            double* dydt_out) noexcept nogil:  # OUT f(y) at the end
    """GSL rkf45_apply: one Fehlberg step of size h (same operation order as GSL)."""
    cdef double k2[RKF45_MAX_DIM]
    cdef double k3[RKF45_MAX_DIM]
    cdef double k4[RKF45_MAX_DIM]
    cdef double k5[RKF45_MAX_DIM]
    cdef double k6[RKF45_MAX_DIM]
    cdef double ytmp[RKF45_MAX_DIM]
    cdef const double* k1 = dydt_in
    cdef int i
    cdef double d_i
    for i in range(dim):
        ytmp[i] = y[i] + (1.0 / 4.0) * h * k1[i]
    rhs(ytmp, k2, a)
    for i in range(dim):
        ytmp[i] = y[i] + h * ((3.0 / 32.0) * k1[i] + (9.0 / 32.0) * k2[i])
    rhs(ytmp, k3, a)
    for i in range(dim):
        ytmp[i] = y[i] + h * ((1932.0 / 2197.0) * k1[i] + (-7200.0 / 2197.0) * k2[i]
                              + (7296.0 / 2197.0) * k3[i])
    rhs(ytmp, k4, a)
    for i in range(dim):
        ytmp[i] = y[i] + h * ((8341.0 / 4104.0) * k1[i] + (-32832.0 / 4104.0) * k2[i]
                              + (29440.0 / 4104.0) * k3[i] + (-845.0 / 4104.0) * k4[i])
    rhs(ytmp, k5, a)
    for i in range(dim):
        ytmp[i] = y[i] + h * ((-6080.0 / 20520.0) * k1[i] + (41040.0 / 20520.0) * k2[i]
                              + (-28352.0 / 20520.0) * k3[i] + (9295.0 / 20520.0) * k4[i]
                              + (-5643.0 / 20520.0) * k5[i])
    rhs(ytmp, k6, a)
    for i in range(dim):
        d_i = ((902880.0 / 7618050.0) * k1[i] + (3953664.0 / 7618050.0) * k3[i]
               + (3855735.0 / 7618050.0) * k4[i] + (-1371249.0 / 7618050.0) * k5[i]
               + (277020.0 / 7618050.0) * k6[i])
        y[i] += h * d_i
    rhs(y, dydt_out, a)
    for i in range(dim):
        yerr[i] = h * ((1.0 / 360.0) * k1[i] + (-128.0 / 4275.0) * k3[i]
                       + (-2197.0 / 75240.0) * k4[i] + (1.0 / 50.0) * k5[i]
                       + (2.0 / 55.0) * k6[i])


cdef inline int hadjust(int dim, const double* y, const double* yerr, const double* yp,
                        double* h, double eps_abs, double eps_rel, double a_y,
                        double a_dydt) noexcept nogil:
    """GSL std_control_hadjust for order 5: -1 decrease, 1 increase, 0 unchanged."""
    cdef double h_old = h[0]
    cdef double rmax = 2.2250738585072014e-308     # DBL_MIN
    cdef double D0, r
    cdef int i
    for i in range(dim):
        D0 = eps_rel * (a_y * fabs(y[i]) + a_dydt * fabs(h_old * yp[i])) + eps_abs
        r = fabs(yerr[i]) / fabs(D0)
        if r > rmax:
            rmax = r
    if rmax > 1.1:
        r = 0.9 / pow(rmax, 1.0 / 5.0)
        if r < 0.2:
            r = 0.2
        h[0] = r * h_old
        return -1
    if rmax < 0.5:
        r = 0.9 / pow(rmax, 1.0 / 6.0)
        if r > 5.0:
            r = 5.0
        if r < 1.0:
            r = 1.0
        h[0] = r * h_old
        return 1
    return 0


cdef inline void evolve_apply(rhs_fn rhs, const OdeArgs* a, int dim,
                              double* t,          # IN/OUT time within the step (ms)
                              double t1,          # IN  end of the step (ms)
                              double* h,          # IN/OUT integration step size (ms)
                              double* y,          # IN/OUT state
                              double eps_abs, double eps_rel, double a_y,
                              double a_dydt) noexcept nogil:
    """GSL gsl_odeiv_evolve_apply with the rkf45 stepper and the standard control."""
    cdef double y0[RKF45_MAX_DIM]
    cdef double yerr[RKF45_MAX_DIM]
    cdef double dydt_in[RKF45_MAX_DIM]
    cdef double dydt_out[RKF45_MAX_DIM]
    cdef double t0 = t[0]
    cdef double h0 = h[0]
    cdef double dt = t1 - t0
    cdef double h_old, t_curr, t_next
    cdef int final_step, i, status
    for i in range(dim):
        y0[i] = y[i]
    rhs(y, dydt_in, a)
    while True:
        if h0 > dt:
            h0 = dt
            final_step = 1
        else:
            final_step = 0
        rkf45_step(rhs, a, dim, h0, y, yerr, dydt_in, dydt_out)
        if final_step:
            t[0] = t1
        else:
            t[0] = t0 + h0
        h_old = h0
        status = hadjust(dim, y, yerr, dydt_out, &h0, eps_abs, eps_rel, a_y, a_dydt)
        if status == -1:
            t_curr = t[0]
            t_next = t[0] + h0
            if fabs(h0) < fabs(h_old) and t_next != t_curr:
                for i in range(dim):
                    y[i] = y0[i]
                continue
            h0 = h_old
        break
    h[0] = h0


cdef inline void integrate_dt(rhs_fn rhs, const OdeArgs* a, int dim, double dt, double* h,
                              double* y, double eps_abs, double eps_rel, double a_y,
                              double a_dydt) noexcept nogil:
    """Integrate y over one simulation step [0, dt] (NEST: while (t < step) evolve_apply)."""
    cdef double t = 0.0
    while t < dt:
        evolve_apply(rhs, a, dim, &t, dt, h, y, eps_abs, eps_rel, a_y, a_dydt)
