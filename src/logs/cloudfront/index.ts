export {
  CLOUDFRONT_FIELDS,
  type CloudFrontField,
  type CloudFrontFieldKind,
  type CloudFrontLayout,
  cloudFrontField,
  cloudFrontFileHeader,
  cloudFrontLayout,
  MIN_FIELD_COUNT as CLOUDFRONT_MIN_FIELD_COUNT,
  parseFieldsHeader,
  STANDARD_FIELD_COUNT,
  standardLayout,
  VERSION_HEADER,
} from './fields.js';
export { formatCloudFrontFile, formatCloudFrontLine } from './format-line.js';
export { CloudFrontParseError, parseCloudFrontLine } from './parse-line.js';
export {
  type CloudFrontLogRecord,
  type CloudFrontLogRecordInit,
  cloudFrontDateTime,
  cloudFrontRecord,
  cloudFrontTimeMs,
} from './record.js';
export {
  type CloudFrontLogKeyParts,
  cloudFrontKeyMayOverlap,
  cloudFrontLogKey,
  HOUR_MS,
  parseCloudFrontLogKey,
} from './s3-key.js';
export {
  decodeCloudFrontValue,
  encodeCloudFrontValue,
  MUST_ENCODE_ANY as MUST_ENCODE_ANY_IN_CLOUDFRONT_VALUE,
  mustEncode as mustEncodeInCloudFrontValue,
} from './url-encoding.js';
