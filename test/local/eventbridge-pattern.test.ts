import {
  compilePattern,
  InvalidEventPatternError,
  matchesPattern,
  parseEventPattern,
  validatePattern,
} from '../../local/eventbridge/pattern';

// Patterns and events below come from AWS's documentation: "Comparison operators for use in event patterns"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html), "Arrays in event
// patterns", "Matching null values and empty strings", and the event-ruler README that EventBridge's matcher
// documents its corner cases in (https://github.com/aws/event-ruler).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The EC2 sample event of the event-ruler README, with `detail` (and top-level fields) overridable. */
const ec2 = (detail: Record<string, Json> = {}, top: Record<string, Json> = {}) => ({
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
    ...detail,
  },
  ...top,
});

const terminated = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['terminated'] },
};

const employees = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};

const cloudwatchOr = {
  source: ['aws.cloudwatch'],
  $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
};

const nestedOr = {
  source: ['aws.cloudwatch'],
  $or: [
    { metricName: ['CPUUtilization', 'ReadLatency'] },
    {
      metricType: ['MetricType'],
      namespace: ['AWS/EC2', 'AWS/ES'],
      $or: [{ metricId: [1234] }, { spaceId: [1000] }],
    },
    { scope: ['Service'] },
  ],
};

const complex = {
  time: [{ prefix: '2017-10-02' }],
  detail: {
    state: [{ 'anything-but': 'initializing' }],
    'c-count': [{ numeric: ['>', 0, '<=', 5] }],
    'd-count': [{ numeric: ['<', 10] }],
    'x-limit': [{ 'anything-but': [100, 200, 300] }],
    'source-ip': [{ cidr: '10.0.0.0/8' }],
  },
};

type MatchCase = [sentence: string, pattern: Json, event: Json, matches: boolean];

const cases: MatchCase[] = [
  // Equality, AND across fields, OR across values
  ['matches when every field named in the pattern matches', terminated, ec2({ state: 'terminated' }), true],
  ['does not match when one of the ANDed fields differs', terminated, ec2({ state: 'running' }), false],
  [
    'matches any one of the values listed for a field',
    { source: ['aws.ec2', 'aws.fargate'] },
    ec2({}, { source: 'aws.fargate' }),
    true,
  ],
  [
    'does not match a value that is not listed',
    { source: ['aws.ec2', 'aws.fargate'] },
    ec2({}, { source: 'aws.s3' }),
    false,
  ],
  ['ignores the event fields the pattern does not name', { source: ['aws.ec2'] }, ec2(), true],
  ['does not match when the named field is missing', { detail: { reason: ['shutdown'] } }, ec2(), false],
  ['requires the field at the same nesting as in the pattern', { state: ['running'] }, ec2(), false],
  ['compares strings case-sensitively', { detail: { state: ['Running'] } }, ec2(), false],
  [
    'matches a number written differently but equal (3.018e2 is 301.8)',
    { detail: { 'x-limit': [3.018e2] } },
    ec2(),
    true,
  ],
  ['does not match a different number', { detail: { 'x-limit': [300] } }, ec2(), false],
  [
    'does not match a string against a number with the same digits',
    { detail: { 'c-count': ['5'] } },
    ec2(),
    false,
  ],
  ['matches the JSON literal true', { detail: { enabled: [true] } }, ec2({ enabled: true }), true],
  [
    'does not match the literal true against the string "true"',
    { detail: { enabled: [true] } },
    ec2({ enabled: 'true' }),
    false,
  ],

  // Arrays
  [
    'matches when the pattern values and the event array intersect',
    {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
      ],
    },
    ec2(
      {},
      {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup',
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        ],
      },
    ),
    true,
  ],
  [
    'does not match when the event array shares no value with the pattern',
    { resources: ['arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] },
    ec2(),
    false,
  ],
  [
    'matches a field inside any object of an event array',
    { employees: { firstName: ['Anna'] } },
    employees,
    true,
  ],
  [
    'matches fields from the same array element together',
    { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    employees,
    true,
  ],
  [
    'does not combine fields from different elements of one array',
    { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    employees,
    false,
  ],

  // Null and empty string
  ['matches an empty string with [""]', { detail: { eventVersion: [''] } }, ec2({ eventVersion: '' }), true],
  ['does not match null with [""]', { detail: { eventVersion: [''] } }, ec2({ eventVersion: null }), false],
  [
    'matches null with [null]',
    { detail: { responseElements: [null] } },
    ec2({ responseElements: null }),
    true,
  ],
  [
    'does not match an empty string with [null]',
    { detail: { responseElements: [null] } },
    ec2({ responseElements: '' }),
    false,
  ],
  ['does not match a missing field with [null]', { detail: { responseElements: [null] } }, ec2(), false],

  // prefix
  ['matches a string that starts with the prefix', { time: [{ prefix: '2017-10-02' }] }, ec2(), true],
  ['does not match a string with another prefix', { time: [{ prefix: '2017-10-03' }] }, ec2(), false],
  [
    'applies prefix case-sensitively',
    { detail: { service: [{ prefix: 'EventB' }] } },
    ec2({ service: 'eventbridge' }),
    false,
  ],
  [
    'applies prefix to strings only, never numbers',
    { detail: { 'c-count': [{ prefix: '5' }] } },
    ec2(),
    false,
  ],
  [
    'matches a prefix in any case with equals-ignore-case',
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    ec2({ service: 'EVENTBRIDGE' }),
    true,
  ],
  [
    'does not match another prefix with equals-ignore-case',
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    ec2({ service: 'lambda' }),
    false,
  ],

  // suffix
  [
    'matches a string that ends with the suffix',
    { FileName: [{ suffix: '.png' }] },
    { FileName: 'image.png' },
    true,
  ],
  [
    'does not match a string with another ending',
    { FileName: [{ suffix: '.png' }] },
    { FileName: 'image.jpg' },
    false,
  ],
  ['applies suffix case-sensitively', { FileName: [{ suffix: '.png' }] }, { FileName: 'IMAGE.PNG' }, false],
  [
    'matches a suffix in any case with equals-ignore-case',
    { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    ec2({ FileName: 'IMAGE.PNG' }),
    true,
  ],
  [
    'does not match another ending with suffix equals-ignore-case',
    { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    ec2({ FileName: 'image.jpg' }),
    false,
  ],

  // equals-ignore-case
  [
    'matches the same string in another case',
    { Name: [{ 'equals-ignore-case': 'alice' }] },
    { Name: 'Alice' },
    true,
  ],
  [
    'does not match a different string with equals-ignore-case',
    { Name: [{ 'equals-ignore-case': 'alice' }] },
    { Name: 'Alicia' },
    false,
  ],

  // anything-but
  [
    'anything-but a string matches any other string',
    { detail: { state: [{ 'anything-but': 'initializing' }] } },
    ec2(),
    true,
  ],
  [
    'anything-but a string does not match that string',
    { detail: { state: [{ 'anything-but': 'initializing' }] } },
    ec2({ state: 'initializing' }),
    false,
  ],
  [
    'anything-but a number matches any other number',
    { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    ec2(),
    true,
  ],
  [
    'anything-but a number does not match that number, however written',
    { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    ec2({ 'x-limit': 1.23e2 }),
    false,
  ],
  [
    'anything-but a list of strings matches a string not in the list',
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    ec2(),
    true,
  ],
  [
    'anything-but a list of strings does not match a listed string',
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    ec2({ state: 'stopped' }),
    false,
  ],
  [
    'anything-but a list of numbers matches a number not in the list',
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    ec2(),
    true,
  ],
  [
    'anything-but a list of numbers does not match a listed number',
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    ec2({ 'x-limit': 200 }),
    false,
  ],
  [
    'anything-but never matches a missing field',
    { detail: { reason: [{ 'anything-but': 'initializing' }] } },
    ec2(),
    false,
  ],
  [
    'anything-but matches an array field when one element is not excluded',
    { detail: { state: [{ 'anything-but': 'initializing' }] } },
    ec2({ state: ['initializing', 'running'] }),
    true,
  ],
  [
    'anything-but does not match an array field whose elements are all excluded',
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    ec2({ state: ['stopped', 'overloaded'] }),
    false,
  ],
  [
    'anything-but prefix matches a value without the prefix',
    { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    { Region: 'eu-west-1' },
    true,
  ],
  [
    'anything-but prefix does not match a value with the prefix',
    { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    { Region: 'us-east-1' },
    false,
  ],
  [
    'anything-but suffix matches a value with another ending',
    { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    { FileName: 'photo.jpg' },
    true,
  ],
  [
    'anything-but suffix does not match a value with that ending',
    { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    { FileName: 'photo.png' },
    false,
  ],
  [
    'anything-but equals-ignore-case does not match the value in another case',
    { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    { state: 'INITIALIZING' },
    false,
  ],
  [
    'anything-but equals-ignore-case matches a different value',
    { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    { state: 'running' },
    true,
  ],
  [
    'anything-but equals-ignore-case with a list excludes every listed value in any case',
    { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] },
    { state: 'overloaded' },
    false,
  ],
  [
    'anything-but wildcard does not match a path that matches the wildcard',
    { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    { FilePath: '/usr/lib/node' },
    false,
  ],
  [
    'anything-but wildcard matches a path that does not match the wildcard',
    { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    { FilePath: '/usr/bin/node' },
    true,
  ],
  [
    'anything-but wildcard with a list excludes a path matching any listed wildcard',
    { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    { FilePath: '/usr/bin/node' },
    false,
  ],

  // numeric
  [
    'numeric range matches a value inside it',
    { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    ec2(),
    true,
  ],
  [
    'numeric range excludes its open lower bound',
    { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    ec2({ 'c-count': 0 }),
    false,
  ],
  [
    'numeric range excludes values above its upper bound',
    { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    ec2({ 'c-count': 5.5 }),
    false,
  ],
  ['numeric < matches a smaller value', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, ec2(), true],
  [
    'numeric < does not match the bound itself',
    { detail: { 'd-count': [{ numeric: ['<', 10] }] } },
    ec2({ 'd-count': 10 }),
    false,
  ],
  ['numeric >= matches the bound itself', { detail: { 'd-count': [{ numeric: ['>=', 3] }] } }, ec2(), true],
  [
    'numeric = compares numbers as numbers',
    { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    ec2(),
    true,
  ],
  [
    'numeric compares as numbers, not text (10 > 9)',
    { detail: { 'c-count': [{ numeric: ['>', 9] }] } },
    ec2({ 'c-count': 10 }),
    true,
  ],
  [
    'numeric never matches a string holding a number',
    { detail: { 'c-count': [{ numeric: ['>', 0] }] } },
    ec2({ 'c-count': '5' }),
    false,
  ],
  [
    'numeric does not match values beyond the documented +/-5.0e9 range',
    { detail: { 'c-count': [{ numeric: ['>', 0] }] } },
    ec2({ 'c-count': 6e9 }),
    false,
  ],

  // exists
  ['exists true matches a present field', { detail: { 'c-count': [{ exists: true }] } }, ec2(), true],
  [
    'exists true does not match a missing field',
    { detail: { 'c-count': [{ exists: true }] } },
    { detail: { state: ['initializing', 'running'] } },
    false,
  ],
  [
    'exists false matches a missing field',
    { detail: { 'c-count': [{ exists: false }] } },
    {
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['initializing', 'running'] },
    },
    true,
  ],
  [
    'exists false does not match a present field',
    { detail: { 'c-count': [{ exists: false }] } },
    ec2(),
    false,
  ],
  [
    'exists false matches a field that is an object, because exists only looks at leaves',
    { detail: { 'c-count': [{ exists: false }] } },
    { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } },
    true,
  ],
  [
    'exists true does not match a field that is an object',
    { detail: { 'c-count': [{ exists: true }] } },
    { detail: { 'c-count': { c1: 100 } } },
    false,
  ],
  [
    'exists false matches when the parent object is missing too',
    { detail: { 'c-count': [{ exists: false }] } },
    { source: 'aws.ec2' },
    true,
  ],

  // cidr
  [
    'cidr matches an IPv4 address inside the block',
    { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
    ec2(),
    true,
  ],
  [
    'cidr does not match an IPv4 address outside the block',
    { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
    ec2({ 'source-ip': '10.0.1.1' }),
    false,
  ],
  [
    'cidr matches an IPv6 address inside the block',
    { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } },
    ec2({ sourceIPAddress: '2001:db8:85a3::8a2e:370:7334' }),
    true,
  ],
  [
    'cidr does not match an IPv6 address outside the block',
    { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } },
    ec2({ sourceIPAddress: '2001:db9::1' }),
    false,
  ],
  [
    'cidr does not match a string that is not an IP address',
    { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } },
    ec2({ 'source-ip': 'localhost' }),
    false,
  ],

  // wildcard
  [
    'wildcard matches any characters in place of *',
    { key: [{ wildcard: 'dir/*.png' }] },
    { key: 'dir/image.png' },
    true,
  ],
  ['wildcard * also spans slashes', { key: [{ wildcard: 'dir/*.png' }] }, { key: 'dir/a/b/image.png' }, true],
  [
    'wildcard does not match another ending',
    { key: [{ wildcard: 'dir/*.png' }] },
    { key: 'dir/image.jpg' },
    false,
  ],
  ['wildcard * matches zero characters', { key: [{ wildcard: 'a*b' }] }, { key: 'ab' }, true],
  ['wildcard is anchored at both ends', { key: [{ wildcard: 'a*b' }] }, { key: 'xab' }, false],
  [
    'several wildcards find a word in the middle',
    { title: [{ wildcard: '*Title*' }] },
    { title: 'The Title Page' },
    true,
  ],
  [
    'wildcard matches an event bus ARN in any account',
    { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
    true,
  ],
  ['an escaped \\* matches a literal asterisk', { key: [{ wildcard: 'a\\*b' }] }, { key: 'a*b' }, true],
  ['an escaped \\* is not a wildcard', { key: [{ wildcard: 'a\\*b' }] }, { key: 'axb' }, false],
  [
    'an escaped \\\\ matches a literal backslash',
    { key: [{ wildcard: 'dir\\\\*' }] },
    { key: 'dir\\file' },
    true,
  ],

  // $or
  [
    '$or matches when the first alternative matches',
    cloudwatchOr,
    { source: 'aws.cloudwatch', metricName: 'CPUUtilization' },
    true,
  ],
  [
    '$or matches when another alternative matches',
    cloudwatchOr,
    { source: 'aws.cloudwatch', namespace: 'AWS/EC2' },
    true,
  ],
  [
    '$or does not match when no alternative matches',
    cloudwatchOr,
    { source: 'aws.cloudwatch', namespace: 'AWS/S3' },
    false,
  ],
  [
    '$or is ANDed with the fields beside it',
    cloudwatchOr,
    { source: 'aws.ec2', metricName: 'CPUUtilization' },
    false,
  ],
  [
    'nested $or matches through an alternative that ANDs fields with an inner $or',
    nestedOr,
    { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 },
    true,
  ],
  [
    'nested $or fails when the inner $or fails',
    nestedOr,
    { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 2000 },
    false,
  ],
  [
    '$or inside detail combines numeric alternatives',
    {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    },
    ec2({ 'c-count': 50, 'd-count': 30 }),
    true,
  ],

  // Combined
  ['the documented complex pattern matches the sample event', complex, ec2(), true],
  ['the documented complex pattern fails when one operator fails', complex, ec2({ 'x-limit': 300 }), false],
];

describe('EventBridge event pattern matching', () => {
  it.each(cases)('%s', (_sentence, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

type InvalidCase = [sentence: string, pattern: Json, reason: string];

const invalid: InvalidCase[] = [
  ['rejects a pattern that is not an object', ['aws.ec2'], 'Filter is not an object'],
  [
    'rejects a field whose value is neither an array nor an object',
    { source: 'aws.ec2' },
    '"source" must be an object or an array',
  ],
  ['rejects an empty array of values', { source: [] }, 'Empty arrays are not allowed'],
  ['rejects an empty object', { detail: {} }, 'Empty objects are not allowed'],
  [
    'rejects an array nested in a value list',
    { source: [['aws.ec2']] },
    'Match value must be String, number, true, false, or null',
  ],
  ['rejects an unknown operator', { source: [{ contains: 'ec2' }] }, 'Unrecognized match type contains'],
  [
    'rejects two operators in one match expression',
    { source: [{ prefix: 'a', suffix: 'b' }] },
    'Only one key allowed in match expression',
  ],
  [
    'rejects a prefix that is not a string',
    { source: [{ prefix: 5 }] },
    'prefix match pattern must be a string',
  ],
  [
    'rejects prefix with an option other than equals-ignore-case',
    { source: [{ prefix: { wildcard: 'a*' } }] },
    'Unsupported prefix pattern: wildcard',
  ],
  [
    'rejects suffix equals-ignore-case that is not a string',
    { source: [{ suffix: { 'equals-ignore-case': 1 } }] },
    'equals-ignore-case match pattern must be a string',
  ],
  [
    'rejects equals-ignore-case with a number',
    { source: [{ 'equals-ignore-case': 5 }] },
    'equals-ignore-case match pattern must be a string',
  ],
  [
    'rejects anything-but with a mixed list',
    { state: [{ 'anything-but': ['a', 1] }] },
    'mixed type is not supported',
  ],
  [
    'rejects anything-but null',
    { state: [{ 'anything-but': null }] },
    'Value of anything-but must be an array or single string/number value',
  ],
  [
    'rejects anything-but of an unsupported operator',
    { state: [{ 'anything-but': { numeric: ['>', 1] } }] },
    'Unsupported anything-but pattern: numeric',
  ],
  [
    'rejects an empty anything-but prefix',
    { state: [{ 'anything-but': { prefix: '' } }] },
    'Null prefix/suffix not allowed',
  ],
  [
    'rejects an invalid wildcard inside anything-but',
    { path: [{ 'anything-but': { wildcard: 'a**' } }] },
    'Consecutive wildcard characters',
  ],
  [
    'rejects an unknown numeric operator',
    { n: [{ numeric: ['!=', 1] }] },
    'Unrecognized numeric range operator: "!="',
  ],
  [
    'rejects a numeric range that starts with an upper bound',
    { n: [{ numeric: ['<', 10, '>', 0] }] },
    'Bad numeric range operator: "<"',
  ],
  [
    'rejects a numeric range whose bottom is not below its top',
    { n: [{ numeric: ['>', 5, '<', 5] }] },
    'Bottom must be less than top',
  ],
  ['rejects a numeric operand that is not a number', { n: [{ numeric: ['>', '5'] }] }, '"5" is not a number'],
  [
    'rejects numbers beyond the documented +/-5.0e9 range',
    { n: [{ numeric: ['<', 6e9] }] },
    'out of the numeric range',
  ],
  [
    'rejects a numeric expression of the wrong length',
    { n: [{ numeric: ['>', 0, '<'] }] },
    'Numeric expression must have',
  ],
  [
    'rejects exists with a non-boolean value',
    { n: [{ exists: 'true' }] },
    'exists match pattern must be either true or false',
  ],
  [
    'rejects a CIDR prefix longer than the address',
    { ip: [{ cidr: '10.0.0.0/33' }] },
    '"10.0.0.0/33" is not a valid CIDR block',
  ],
  [
    'rejects a CIDR block whose address is not an IP',
    { ip: [{ cidr: 'ten.0.0.0/8' }] },
    'is not a valid CIDR block',
  ],
  [
    'rejects consecutive wildcard characters',
    { key: [{ wildcard: 'dir/**' }] },
    'Consecutive wildcard characters at pos 4',
  ],
  [
    'rejects a backslash escaping anything but * or \\',
    { key: [{ wildcard: 'dir\\d' }] },
    'Invalid escape character at pos 3',
  ],
  [
    'rejects $or with a single alternative',
    { $or: [{ source: ['a'] }] },
    'There must be at least 2 objects in an $or array',
  ],
  [
    'rejects $or that is not followed by an array',
    { $or: { source: ['a'] } },
    '$or must be followed by an array',
  ],
  [
    'rejects $or alternatives that are not objects',
    { $or: [{ source: ['a'] }, ['b']] },
    'Only JSON objects are allowed in an $or array',
  ],
  [
    'rejects an operator name used as a field inside $or',
    { $or: [{ numeric: [1] }, { prefix: ['a'] }] },
    'numeric is a reserved field name',
  ],
];

describe('EventBridge event pattern validation', () => {
  it.each(invalid)('%s', (_sentence, pattern, reason) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => validatePattern(pattern)).toThrow(reason);
  });

  it('says where in the pattern the problem is, in the words of InvalidEventPatternException', () => {
    expect(() => validatePattern({ detail: { state: ['running', { prefix: 1 }] } })).toThrow(
      'Event pattern is not valid. Reason: prefix match pattern must be a string at detail.state[1].prefix',
    );
  });

  it('rejects an EventPattern string that is not JSON', () => {
    expect(() => parseEventPattern('{"source": [')).toThrow(
      /Event pattern is not valid\. Reason: Pattern is not valid JSON/,
    );
  });

  it('compiles a valid pattern once and matches many events with it', () => {
    const pattern = compilePattern({ detail: { state: ['running'] } });
    expect(
      [ec2(), ec2({ state: 'stopped' }), ec2({ state: 'running' })].map((e) => pattern.matches(e)),
    ).toEqual([true, false, true]);
  });
});
