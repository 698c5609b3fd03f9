// The system's DNS resolver (glibc's libresolv): res_query for the SRV records of RFC 3263.
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
