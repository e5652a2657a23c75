/* clock.h — rtml's two clocks, in seconds as doubles: the monotonic one for intervals, deadlines and rates (it
 * never jumps), and the wall clock for what is written down or compared across processes (a checkpoint's time,
 * a report's first_at). The one home of both: every layer reads time here. */
#ifndef RTML_BASE_CLOCK_H
#define RTML_BASE_CLOCK_H

/* Monotonic clock (CLOCK_MONOTONIC). */
double rtml_now(void);
/* Wall-clock time since the epoch (CLOCK_REALTIME). */
double rtml_wall_time(void);

#endif
