/* Perl-compatible regular expressions from Debian's libpcre2-dev, 8-bit code units (UTF-8). The function
   names are macros over the width; Swift calls the _8 functions directly. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
