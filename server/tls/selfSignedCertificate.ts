import crypto from 'node:crypto';
import net from 'node:net';
import { bitString, boolean, explicit, implicit, objectIdentifier, octetString, sequence, set, time, tlv, unsignedInteger, utf8String } from './der';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

export interface SelfSignedOptions {
  commonName: string;
  /** Host names and IP addresses the certificate names (subjectAltName). */
  dnsNames: string[];
  ipAddresses: string[];
  validDays: number;
  now?: Date;
}

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * An ECDSA P-256 server certificate signed by its own key: X.509 v3 with subjectAltName,
 * serverAuth and CA:false, which browsers accept once the user confirms the exception (and Node
 * clients accept when given it as `ca`).
 */
export function generateSelfSignedCertificate(options: SelfSignedOptions): GeneratedCertificate {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = options.now ?? new Date();
  // An hour back: clocks of the machines that check it are not exactly ours.
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + options.validDays * 86400_000);
  const name = sequence(
    set(sequence(objectIdentifier(OID.organization), utf8String('confrec (self-signed)'))),
    set(sequence(objectIdentifier(OID.commonName), utf8String(options.commonName))),
  );
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const serial = crypto.randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    signatureAlgorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions(options))),
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function extensions(options: SelfSignedOptions): Buffer[] {
  const extension = (oid: string, critical: boolean, value: Buffer): Buffer =>
    sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
  const altNames = [
    ...options.dnsNames.map((dns) => implicit(2, Buffer.from(dns, 'ascii'))),
    ...options.ipAddresses.filter((ip) => net.isIPv4(ip) || (net.isIPv6(ip) && !ip.includes('.'))).map((ip) => implicit(7, ipBytes(ip))),
  ];
  return [
    extension(OID.basicConstraints, true, sequence()),
    // digitalSignature only (bit 0): 7 unused bits in the one content byte.
    extension(OID.keyUsage, true, tlv(0x03, Buffer.from([0x07, 0x80]))),
    extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
    extension(OID.subjectAltName, false, sequence(...altNames)),
  ];
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::') as [string, string?];
  const groups = (part: string): number[] => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const words = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const bytes = Buffer.alloc(16);
  words.forEach((word, index) => bytes.writeUInt16BE(word, index * 2));
  return bytes;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
