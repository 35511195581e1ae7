#ifndef CONFREC_RTP_ORDER_H
#define CONFREC_RTP_ORDER_H
#include <gst/gst.h>

/* The element's factory name in launch strings. */
#define RTP_ORDER_ELEMENT "confrecrtporder"

/* Registers the element in this process (idempotent). */
gboolean confrec_register_rtp_order(void);

#endif
