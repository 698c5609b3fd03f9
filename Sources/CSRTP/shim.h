// libsrtp2 from Debian's libsrtp2-dev (pkg-config libsrtp2).
#include <srtp2/srtp.h>
