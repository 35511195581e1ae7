#ifndef CONFREC_OPUS_DECODER_H
#define CONFREC_OPUS_DECODER_H
#include <gst/gst.h>

/* The element's factory name in launch strings. */
#define OPUS_DECODER_ELEMENT "confrecopusdec"

/* Registers the element in this process (idempotent). */
gboolean confrec_register_opus_decoder(void);

#endif
