/**
 * The seed's CloudStorageConfig.region is an unsigned int: Agora's region numbers per vendor
 * (Agora's "third-party cloud storage regions" table). They map onto the names our uploaders take
 * (Qiniu region ids, AWS region names); README.md lists them. Numbers missing from Agora's table
 * (AWS 17, 23) are refused rather than guessed.
 */
export const QINIU_REGION_NUMBERS: Readonly<Record<number, string>> = Object.freeze({
  0: 'z0', // East China
  1: 'z1', // North China
  2: 'z2', // South China
  3: 'na0', // North America
  4: 'as0', // Southeast Asia
});

export const AWS_REGION_NUMBERS: Readonly<Record<number, string>> = Object.freeze({
  0: 'us-east-1',
  1: 'us-east-2',
  2: 'us-west-1',
  3: 'us-west-2',
  4: 'eu-west-1',
  5: 'eu-west-2',
  6: 'eu-west-3',
  7: 'eu-central-1',
  8: 'ap-southeast-1',
  9: 'ap-southeast-2',
  10: 'ap-northeast-1',
  11: 'ap-northeast-2',
  12: 'sa-east-1',
  13: 'ca-central-1',
  14: 'ap-south-1',
  15: 'cn-north-1',
  16: 'cn-northwest-1',
  18: 'af-south-1',
  19: 'ap-east-1',
  20: 'ap-northeast-3',
  21: 'eu-north-1',
  22: 'me-south-1',
  24: 'ap-southeast-3',
  25: 'eu-south-1',
});

/** Agora's vendor numbers (0 Qiniu, 1 AWS), accepted beside the names. */
export const AGORA_VENDOR_NUMBERS: Readonly<Record<number, 'Qiniu' | 'AWS'>> = Object.freeze({ 0: 'Qiniu', 1: 'AWS' });
