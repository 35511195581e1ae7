import { isWildcard } from './network/RtcAddresses';
import type { MediaServer } from './MediaServer';

/**
 * What `npm start` prints for people: where to open the page from this and from other machines,
 * the address WebRTC announces, the ports a firewall must open, and the certificate to accept.
 */
export function describeStart(server: MediaServer): string {
  const { config, rtc, certificate, port } = server;
  const listenIp = config.http.listenIp;
  const remoteHost = isWildcard(listenIp) ? rtc.announcedIp : listenIp;
  const lines: string[] = [];
  if (certificate) {
    lines.push(`confrec is running: https://${remoteHost}:${port}/  (signaling: wss://${remoteHost}:${port}/ws)`);
    if (isWildcard(listenIp) || listenIp.startsWith('127.')) lines.push(`  on this machine also http://localhost:${port}/ (plain HTTP is served to local clients only)`);
    if (certificate.selfSigned) {
      lines.push(`  TLS: self-signed certificate ${certificate.source === 'generated' ? 'generated now' : 'from'} ${certificate.certFile}`);
      lines.push(`  Browsers warn about it once: accept it (Advanced → Proceed) if its SHA-256 fingerprint is`);
      lines.push(`    ${certificate.fingerprint256}`);
      lines.push(`  (set http.tlsCert/http.tlsKey to a real certificate to skip the warning)`);
    } else {
      lines.push(`  TLS: ${certificate.certFile} (SHA-256 ${certificate.fingerprint256})`);
    }
  } else {
    lines.push(`confrec is running: http://${remoteHost}:${port}/  (signaling: ws://${remoteHost}:${port}/ws)`);
    lines.push(`  TLS is off (http.tls=off): browsers give the camera only on https:// or localhost; put a TLS proxy in front`);
  }
  lines.push(`  WebRTC announces ${rtc.announcedIp} (${rtc.origin}; override with CONFREC_MEDIASOUP_ANNOUNCED_IP),`);
  lines.push(`  open UDP and TCP ${config.mediasoup.rtcMinPort}-${config.mediasoup.rtcMaxPort} and TCP ${port} to clients`);
  lines.push(`Get a join token:   npm run token -- --channel demo --uid alice`);
  return lines.join('\n');
}
