{
  "targets": [
    {
      "target_name": "confrec_gst",
      "sources": ["gstGraph.c", "rtpOrder.c", "udpReceiver.c", "opusDecoder.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "include_dirs": ["<!@(pkg-config gstreamer-1.0 gstreamer-audio-1.0 gio-2.0 opus --cflags-only-I | sed s/-I//g)"],
      "libraries": ["<!@(pkg-config gstreamer-1.0 gstreamer-audio-1.0 gio-2.0 opus --libs)"]
    }
  ]
}
