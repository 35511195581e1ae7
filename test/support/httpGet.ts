import http from 'node:http';
import https from 'node:https';

export interface HttpGetAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET over http:// or https:// (TLS options such as `ca` go in `options`); rejects on socket errors. */
export function httpGet(url: string, options: https.RequestOptions = {}): Promise<HttpGetAnswer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    client
      .get(url, options, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += String(chunk)));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
      .on('error', reject);
  });
}
