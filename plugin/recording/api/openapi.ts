/**
 * OpenAPI 3.0 description of the backend HTTP API, served at GET /api/v1/openapi.json (no auth).
 * Kept beside RecordingsApi.ts; test/backend/httpApi.test.ts checks that every route it serves is here.
 */
const recordingErrorCodes = [
  'Ok',
  'ConnectError',
  'Disconnected',
  'InvalidParameter',
  'InvalidOperation',
  'NoUsers',
  'NoRecordedData',
  'RecorderInitFailed',
  'RecorderFailed',
  'UploaderInitFailed',
  'UploaderFailed',
  'BackupFailed',
  'RecorderExpireExit',
  'GeneralError',
];

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const recordingResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Recording' } } } });
const idParameter = { name: 'recordingId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' } };
const commonErrors = {
  '401': errorResponse('Missing or wrong app id / secret (code UNAUTHORIZED)'),
  '404': errorResponse('No such recording on this server (code NOT_FOUND)'),
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.0.3',
  info: {
    title: 'confrec backend API',
    version: '1.0.0',
    description:
      'Drive server-side recordings from a backend. Authenticate with HTTP Basic: the app id (auth.appId) as user name and the API secret ' +
      '(api.secret, or auth.secret when empty) as password. Errors are { "error": { "code", "message" } }; codes are the Agora Cloud Recording ' +
      'codes (InvalidParameter, InvalidOperation, …) or BAD_JSON, MESSAGE_TOO_LARGE, NOT_FOUND, UNAUTHORIZED, METHOD_NOT_ALLOWED, UNSUPPORTED_MEDIA_TYPE. ' +
      'Validation messages name the offending field. Recording events are also POSTed to webhooks (see the README) and streamed to the recorder SDK ' +
      '(WebSocket at /api/v1/recorder).',
  },
  servers: [{ url: '/api/v1' }],
  security: [{ basic: [] }],
  paths: {
    '/openapi.json': {
      get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI document' } } },
    },
    '/recordings': {
      get: {
        summary: 'List the recordings of this server (running and finished) with their files and upload states',
        responses: {
          '200': {
            description: 'Recordings',
            content: { 'application/json': { schema: { type: 'object', properties: { recordings: { type: 'array', items: { $ref: '#/components/schemas/Recording' } } } } } },
          },
          '401': commonErrors['401'],
        },
      },
      post: {
        summary:
          'Start recording a channel (created if nobody joined it yet); answers once the recorder has written its first bytes to disk (composite: the file; per participant: the first stream file, or at once when nobody publishes), at most 5 s after the recorder started, with the streams it records wired (participants)',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/StartRequest' } } } },
        responses: {
          '201': recordingResponse('Started'),
          '400': errorResponse('BAD_JSON or InvalidParameter (the message names the field)'),
          '401': commonErrors['401'],
          '409': errorResponse('InvalidOperation: the channel is already recorded, or the server runs recording.maxConcurrentRecordings recordings'),
          '413': errorResponse('MESSAGE_TOO_LARGE: body over api.maxBodyBytes'),
          '500': errorResponse('RecorderInitFailed and other server-side failures'),
        },
      },
    },
    '/recordings/{recordingId}': {
      parameters: [idParameter],
      get: { summary: 'State, participants, files and upload status of one recording', responses: { '200': recordingResponse('The recording'), ...commonErrors } },
    },
    '/recordings/{recordingId}/layout': {
      parameters: [idParameter],
      put: {
        summary: 'Change the composite layout while recording',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LayoutRequest' } } } },
        responses: {
          '200': recordingResponse('Layout applied'),
          '400': errorResponse('BAD_JSON or InvalidParameter'),
          '409': errorResponse('InvalidOperation: not running, or not a composite recording'),
          ...commonErrors,
        },
      },
    },
    '/recordings/{recordingId}/stop': {
      parameters: [idParameter],
      post: {
        summary: 'Stop a recording: answers once the files are finalized and in the upload queue (files[] and uploads[] are final; watch uploads[] or the uploaded webhook)',
        responses: { '200': recordingResponse('Stopped'), '409': errorResponse('InvalidOperation: not running'), ...commonErrors },
      },
    },
    '/recordings/{recordingId}/resume-uploads': {
      parameters: [idParameter],
      post: {
        summary: 'Upload the files Release(false) held in backup (state held); they go through the usual retries',
        responses: {
          '200': {
            description: 'Resumed',
            content: { 'application/json': { schema: { type: 'object', properties: { recordingId: { type: 'string' }, resumed: { type: 'integer' }, uploads: { type: 'array', items: { $ref: '#/components/schemas/Upload' } } } } } },
          },
          ...commonErrors,
        },
      },
    },
    '/recordings/{recordingId}/events': {
      parameters: [idParameter, { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } }],
      get: {
        summary: 'The recording’s events with seq > after (the same events the SDK and webhooks get)',
        responses: {
          '200': {
            description: 'Events',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    recordingId: { type: 'string' },
                    events: { type: 'array', items: { $ref: '#/components/schemas/RecordingEvent' } },
                    lastSeq: { type: 'integer' },
                    complete: { type: 'boolean', description: 'false when older events were dropped from the bounded log' },
                  },
                },
              },
            },
          },
          ...commonErrors,
        },
      },
    },
  },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      },
      StartRequest: {
        type: 'object',
        required: ['channelName'],
        additionalProperties: false,
        properties: {
          channelName: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          uid: { type: 'string', description: 'Who starts it (logs, startedBy)' },
          recordingConfig: { $ref: '#/components/schemas/RecordingConfig' },
          cloudStorageConfig: { $ref: '#/components/schemas/CloudStorageConfig' },
          fileName: { type: 'string', description: 'Object key stem (relative, "/"-separated); a timestamp is appended' },
        },
      },
      RecordingConfig: {
        type: 'object',
        additionalProperties: false,
        description: 'The Agora seed’s RecordingConfig; every field optional with the seed’s default',
        properties: {
          recordingStreamTypes: { type: 'string', enum: ['AudioVideo', 'AudioOnly', 'VideoOnly'], default: 'AudioVideo' },
          decryptionMode: { type: 'string', enum: ['None'], default: 'None' },
          channelType: { type: 'string', enum: ['Communication', 'Live'], default: 'Communication' },
          audioProfile: { type: 'string', enum: ['MusicStandard', 'MusicHighQuality', 'MusicHighQualityStereo'], default: 'MusicStandard' },
          videoStreamType: { type: 'string', enum: ['High', 'Low'], default: 'High' },
          maxIdleTime: { type: 'integer', minimum: 0, maximum: 86400, default: 30, description: 'Seconds with nobody in the channel before the recording stops itself; 0 → 30' },
          recordingMode: { type: 'string', enum: ['composite', 'individual'], default: 'composite' },
          transcodingConfig: {
            type: 'object',
            additionalProperties: false,
            properties: {
              width: { type: 'integer', default: 360 },
              height: { type: 'integer', default: 640 },
              fps: { type: 'integer', default: 15 },
              bitrate: { type: 'integer', default: 500, description: 'kbps' },
              maxResolutionUid: { type: 'string' },
              layout: { type: 'string', enum: ['Float', 'BestFit', 'Vertical'], default: 'Float' },
            },
          },
        },
      },
      CloudStorageConfig: {
        type: 'object',
        additionalProperties: false,
        description: 'Where the file goes; default { "vendor": "Local" }. vendor (or the seed spelling vender) is required. Keys are never shown back.',
        properties: {
          vendor: { oneOf: [{ type: 'string', enum: ['Qiniu', 'AWS', 'S3', 'Local'] }, { type: 'integer', enum: [0, 1], description: "Agora's numbers: 0 Qiniu, 1 AWS" }] },
          vender: { description: 'The seed spelling of vendor; if both are given they must agree', oneOf: [{ type: 'string', enum: ['Qiniu', 'AWS', 'S3', 'Local'] }, { type: 'integer', enum: [0, 1] }] },
          region: { oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0, description: "Agora's region number of the vendor (README: region table)" }] },
          bucket: { type: 'string' },
          accessKey: { type: 'string' },
          secretKey: { type: 'string', writeOnly: true },
          endpoint: { type: 'string' },
        },
      },
      LayoutRequest: {
        type: 'object',
        required: ['layout'],
        additionalProperties: false,
        properties: { layout: { type: 'string', enum: ['Float', 'BestFit', 'Vertical'] }, maxResolutionUid: { type: 'string' } },
      },
      Recording: {
        type: 'object',
        properties: {
          recordingId: { type: 'string' },
          channelId: { type: 'string' },
          phase: { type: 'string', enum: ['starting', 'running', 'stopping', 'stopped', 'failed'] },
          recovered: {
            type: 'boolean',
            enum: [true],
            description: 'Present for a recording a previous server process never finished (killed, crashed): phase failed, files recovered from disk after the restart',
          },
          mode: { type: 'string', enum: ['composite', 'individual'] },
          startedAt: { type: 'string', format: 'date-time', description: 'When the recorder started the file: the instant files[].startOffsetMs (and recording.json) count from' },
          startedBy: { type: 'string' },
          participants: { type: 'array', items: { type: 'string' }, description: 'uids whose streams were recorded at any time (kept after stop)' },
          layout: { type: 'object', properties: { layout: { type: 'string' }, maxResolutionUid: { type: 'string' } } },
          files: {
            type: 'array',
            items: { type: 'object', properties: { objectKey: { type: 'string' }, kind: { type: 'string' }, uid: { type: 'string' }, startOffsetMs: { type: 'number' } } },
          },
          uploads: { type: 'array', items: { $ref: '#/components/schemas/Upload' } },
          lastSeq: { type: 'integer', description: 'Sequence number of the recording’s last event' },
        },
      },
      Upload: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          objectKey: { type: 'string' },
          state: { type: 'string', enum: ['queued', 'uploading', 'retrying', 'backingUp', 'backedUp', 'held', 'uploaded', 'failed'], description: 'held: uploading stopped by Release(false); the file waits in backup until resume-uploads' },
          percent: { type: 'integer', minimum: 0, maximum: 100 },
          attempts: { type: 'integer' },
          size: { type: 'integer' },
          target: { type: 'object', description: 'vendor, bucket, region, endpoint (never keys)' },
          location: { type: 'string' },
          lastError: { type: 'object', properties: { code: { type: 'string', enum: recordingErrorCodes }, message: { type: 'string' } } },
        },
      },
      RecordingEvent: {
        type: 'object',
        required: ['recordingId', 'seq', 'event', 'at'],
        properties: {
          recordingId: { type: 'string' },
          seq: { type: 'integer', description: 'Consecutive from 1 per recording' },
          event: {
            type: 'string',
            enum: ['connecting', 'started', 'stopped', 'recorderFailure', 'uploaded', 'backuped', 'uploadingProgress', 'uploaderFailure', 'fatalError'],
          },
          at: { type: 'string', format: 'date-time' },
          channelId: { type: 'string' },
          code: { type: 'string', enum: recordingErrorCodes },
          message: { type: 'string' },
          fileName: { type: 'string' },
          progress: { type: 'integer', minimum: 0, maximum: 100 },
        },
      },
    },
  },
} as const;
