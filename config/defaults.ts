/**
 * Every setting of the server, with its default. A JSON file (CONFREC_CONFIG=path, or
 * config/local.json when present) and then environment variables override these: each leaf
 * `section.someKey` is `CONFREC_SECTION_SOME_KEY` (e.g. CONFREC_HTTP_PORT=9000,
 * CONFREC_AUTH_ENABLED=false). See config/example.json.
 */

/** What a cluster node does: `media` hosts channels (serves clients), `recorder` runs recorder processes. */
export type ClusterRole = 'media' | 'recorder';
export const CLUSTER_ROLES: readonly ClusterRole[] = ['media', 'recorder'];

export const DEFAULT_CONFIG = {
  http: {
    /** Address for HTTP, the web page and WebSocket signaling (one port serves all three). */
    listenIp: '0.0.0.0',
    /** 0 picks a free port (tests); the default for people is 8080. */
    port: 8080,
    /**
     * 'auto': the port serves HTTPS/WSS (and plain HTTP/WS only to clients on this machine), with
     * tlsCert/tlsKey when given, else a self-signed certificate generated once into
     * <stateDir>/tls/. 'off': plain HTTP for everyone (behind a TLS-terminating proxy).
     */
    tls: 'auto' as 'auto' | 'off',
    /** PEM certificate (chain) file for HTTPS; empty: self-signed. Give both or neither. */
    tlsCert: '',
    /** PEM private key file of tlsCert. */
    tlsKey: '',
  },
  /** Limits of every WebSocket: channel signaling (/ws) and the recorder SDK's socket (/api/v1/recorder). */
  signaling: {
    /**
     * Largest message answered: a bigger one gets MESSAGE_TOO_LARGE and the socket stays. A message
     * over twice this size — a fragmented one counts whole, finished or not — closes the socket (1009).
     */
    maxMessageBytes: 64 * 1024,
    /** Requests a single connection may make per second before RATE_LIMITED answers. */
    maxRequestsPerSecond: 200,
    /**
     * Bytes the server may hold for a socket that does not read what it is sent; beyond, the socket
     * is closed with 4008 'slow consumer' (and cut 2 s later if the close cannot get through).
     */
    maxBufferedBytes: 1024 * 1024,
    /**
     * A socket that has not joined a channel (recorder SDK: started, attached to or resumed a
     * recording) within this time is closed with 4001 'join timeout'; so is one idle that long after leaving.
     */
    joinTimeoutMs: 10_000,
    /** The server pings every socket this often; any frame from the client also counts as alive. */
    pingIntervalMs: 15_000,
    /** A socket that has not answered a ping within this time is closed with 4002 'ping timeout'. */
    pingTimeoutMs: 10_000,
    /** Open sockets (both paths) per client IP; the next upgrade is refused with HTTP 429. */
    maxConnectionsPerIp: 100,
    /** Open sockets (both paths) in total; the next upgrade is refused with HTTP 503. */
    maxConnections: 1000,
  },
  auth: {
    /** Join requires a token signed with `secret`. Turning this off is logged loudly at start. */
    enabled: true,
    /** App id bound into tokens. */
    appId: 'confrec',
    /** HMAC secret for tokens. Empty: generated once and kept in <stateDir>/auth-secret (0600). */
    secret: '',
  },
  mediasoup: {
    /** Number of mediasoup workers; 0 means one per CPU core. */
    numWorkers: 0,
    logLevel: 'warn' as 'debug' | 'warn' | 'error' | 'none',
    rtcMinPort: 40000,
    rtcMaxPort: 49999,
    /** IP that WebRTC and client plain transports listen on (UDP and TCP, rtcMinPort–rtcMaxPort). */
    listenIp: '0.0.0.0',
    /**
     * IP announced to clients in ICE candidates: the address they reach this machine at (the public
     * one behind NAT). Empty: listenIp when it is a specific address, else auto-detected (the
     * default route's source address). Printed at start.
     */
    announcedIp: '',
  },
  recording: {
    /** The recording plugin; false switches it off (recordState stays None). */
    enabled: true,
    /** Where local recordings are written (and the local store puts uploaded files). */
    recordingsDir: 'recordings',
    /** Durable state: the upload queue, the generated auth secret. */
    stateDir: 'var',
    /** Storage used when nobody gave a record param: 'local' makes every channel Ready; 'none' keeps None. */
    defaultStorage: 'local' as 'local' | 'none',
    /** Most recordings running at once on this server. */
    maxConcurrentRecordings: 16,
    /**
     * Recorder capacity of this node in cost units (1 unit = a thousandth of a core; a 4-party
     * 640×360@15 composite costs about 175, one recorded stream without re-encoding about 6: see
     * plugin/recording/cluster/recordingCost.ts). A start that does not fit beside the running
     * recordings is refused at once (InvalidOperation). 0: derived from the cores, 800 per core.
     */
    capacityUnits: 0,
    /**
     * Cluster mode: a recording whose recorder node dies goes on on another recorder node, as the
     * next segment of the same recording (its spec, storage secret included, is kept in Redis sealed
     * under a key derived from the API secret while it runs). false: it is declared failed, and no
     * spec is written to Redis.
     */
    failover: true,
    /**
     * How long a finished recording stays in memory (ms); after that the HTTP API and the SDK answer
     * for it from its event log and final status on disk (<stateDir>/events/), so memory does not
     * grow with the number of recordings ever made.
     */
    retainFinishedMs: 600_000,
    /**
     * Storage endpoints (host or host:port, comma separated; '*' for any) a record param may name for
     * S3-compatible or private Qiniu stores. Empty: only the vendors' own endpoints, so a client
     * cannot make the server upload to a host of its choosing.
     */
    allowedStorageEndpoints: '',
  },
  api: {
    /** Backend control: the HTTP API under /api/v1 and the recorder SDK's socket at /api/v1/recorder. */
    enabled: true,
    /** Secret backends send with auth.appId (HTTP Basic appId:secret). Empty: the same as auth.secret. */
    secret: '',
    /** Largest JSON request body accepted by the HTTP API (413 beyond). */
    maxBodyBytes: 64 * 1024,
  },
  webhooks: {
    /** Comma-separated http(s) URLs every recording event is POSTed to; empty: no webhooks. */
    urls: '',
    /** HMAC-SHA256 key of the X-Confrec-Signature header. Empty: the API secret (api.secret, else auth.secret). */
    secret: '',
    /** Per delivery attempt. */
    timeoutMs: 5000,
    /** Attempts per event and URL before it is dropped (logged); later events then go on. */
    maxAttempts: 10,
    /** Backoff between attempts: base × 2^attempt (with jitter), capped at max. */
    retryBaseDelayMs: 500,
    retryMaxDelayMs: 30_000,
  },
  metrics: {
    /** Prometheus metrics at GET /metrics (text exposition format); false: no such route. */
    enabled: true,
    /**
     * Serve /metrics without credentials (a scraper on a private network). false: HTTP Basic with the
     * HTTP API's credentials (auth.appId : api.secret, else auth.secret), like /api/v1.
     */
    public: false,
  },
  /**
   * Cluster mode (issue 12, in progress: channels are placed, redirected and moved across nodes;
   * recordings are still per node). Redis is the cluster's only shared state; every node of one
   * cluster names the same Redis.
   */
  cluster: {
    /** redis://[user:password@]host:port[/db] of the cluster's Redis. Empty: a single node (no Redis needed). */
    redisUrl: '',
    /** This node's id in the cluster. Empty: generated once and kept in <stateDir>/node-id. */
    nodeId: '',
    /**
     * How clients and other nodes reach this node's HTTP/WebSocket (https://media-1.example.com:8080).
     * Redirects point here. Empty: <scheme>://<announcedIp>:<http.port> (http.port 0 needs it set).
     */
    publicUrl: '',
    /** The address other nodes send RTP to (piping media between nodes). Empty: mediasoup.announcedIp. */
    rtpAddress: '',
    /** A node that has not heartbeated for this long is dead: its entry expires from the registry. */
    nodeTimeoutMs: 5000,
    /**
     * A channel's lease on its node: renewed every leaseMs / 3 by the owner, so after the owner dies
     * the channel can be created again on another node within leaseMs.
     */
    leaseMs: 10_000,
    /**
     * What this node does (env: comma list, CONFREC_CLUSTER_ROLES=recorder): `media` hosts channels
     * (clients join here; new channels are placed only on media nodes), `recorder` runs recordings.
     * A node without `media` answers every join with a REDIRECT to a media node. Cluster mode only.
     */
    roles: CLUSTER_ROLES,
  },
} as const;

type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? E[]
        : { -readonly [K in keyof T]: Widen<T[K]> };
export type ServerConfig = Widen<typeof DEFAULT_CONFIG> & {
  http: { tls: 'auto' | 'off' };
  mediasoup: { logLevel: 'debug' | 'warn' | 'error' | 'none' };
  recording: { defaultStorage: 'local' | 'none' };
};

/**
 * Leaf paths whose values are secrets: masked whenever the resolved config is printed
 * (cluster.redisUrl whole, as it may carry the Redis password).
 */
export const SECRET_PATHS: readonly string[] = ['auth.secret', 'api.secret', 'webhooks.secret', 'cluster.redisUrl'];
