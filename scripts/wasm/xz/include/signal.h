/* The names mythread.h's helper for single-threaded programs uses; liblzma's decoder never
 * calls it, and wasi-libc has no signals. */
typedef unsigned sigset_t;
int sigprocmask(int how, const sigset_t *set, sigset_t *old);
