{
  "targets": [
    {
      "target_name": "confrec_gst",
      "sources": ["gstGraph.c", "rtpOrder.c", "udpReceiver.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "include_dirs": ["<!@(pkg-config gstreamer-1.0 --cflags-only-I | sed s/-I//g)"],
      "libraries": ["<!@(pkg-config gstreamer-1.0 --libs)"]
    }
  ]
}
