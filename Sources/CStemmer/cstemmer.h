/* Snowball stemmers from Debian's libstemmer-dev (no pkg-config file: the header and -lstemmer). */
#include <libstemmer.h>
