/* A hint to the processor to load memory that a loop will read soon (the compiler's builtin, which Swift
   does not expose). It never faults and changes no result. */
static inline void mailtriage_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
