#ifndef CONFREC_UDP_RECEIVER_H
#define CONFREC_UDP_RECEIVER_H
#include <gst/gst.h>

/* The element's factory name in launch strings. */
#define UDP_RECEIVER_ELEMENT "confrecudpsrc"
/* The name of the one thread that reads every confrecudpsrc socket of the process. */
#define UDP_RECEIVER_THREAD "confrec-udp"

/* Registers the element in this process (idempotent). */
gboolean confrec_register_udp_receiver(void);

#endif
