/**
 * Fixed pools of realistic, deliberately awkward text. Messages include unicode, emoji, quotes,
 * backslashes, tabs and newlines, because those are what break naive CSV/COPY/JSON handling.
 */

export const FIRST_NAMES = [
  'Ada',
  'Bjørn',
  'Chloé',
  'Dmitri',
  'Eun-ji',
  'Farah',
  'Gábor',
  'Hiroshi',
  'Ines',
  'José',
  'Kwame',
  'Léa',
  'Mateus',
  'Nadia',
  "O'Brien",
  'Priya',
  'Quentin',
  'Rūta',
  'Søren',
  'Thandiwe',
  'Ugo',
  'Vikram',
  'Wen',
  'Xóchitl',
  'Yusuf',
  'Zoë',
] as const

export const LAST_NAMES = [
  'Lovelace',
  'Ødegaard',
  'Dubois',
  'Ivanov',
  'Kim',
  'Haddad',
  'Szabó',
  'Tanaka',
  'García',
  'Mensah',
  'Müller',
  'Silva',
  'Petrović',
  'Nguyen',
  'Kowalski',
  'Johansson',
  'Smith "Smitty"',
] as const

export const COMPANIES = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Stark',
  'Wayne',
  'Tyrell',
] as const

export const MESSAGES = [
  'Hi team, our SSO login is failing since this morning. Can someone take a look?',
  'The export to CSV drops rows that contain a comma, e.g. "Smith, John".',
  'We see error 500 on /api/v2/orders — started after the deploy 🚀',
  'Can you enable the beta feature for workspace `acme-prod`?',
  'Path on Windows is C:\\Users\\ops\\logs\\app.log and it is empty.',
  'Tab\tseparated\tvalues\tare\tgetting\tmangled in the report.',
  'Line one\nLine two\nLine three — multi-line message from Slack.',
  'Invoice #4821 shows the wrong currency (€ instead of $).',
  'Urgent!!! Production is down for our EU customers 🔥🔥',
  'Quick question: does the webhook retry on 429? Thanks 🙏',
  'ありがとうございます。ダッシュボードが表示されません。',
  'Привет! Не работает выгрузка отчётов.',
  'مرحبا، لا يمكنني تسجيل الدخول إلى الحساب',
  'Emoji test 👩‍💻👨‍👩‍👧‍👦🏳️‍🌈 and zero-width\u200bjoiner',
  'He said "it works on my machine" and closed the ticket\\n',
  'Backslash-quote combo: \\" and a lone \\ at the end \\',
  'JSON in a message: {"id": 42, "tags": ["a", "b"]}',
  "SQL in a message: SELECT * FROM users WHERE name = 'x'; DROP TABLE requests; --",
  'Carriage\r\nreturns\r\nfrom an email client',
  'Null byte-free but control chars: \u0001\u0007 bell',
  'Following up on the thread above 👆',
  'Please reset the API token for our integration user.',
  'The mobile app crashes when uploading a 20MB image.',
  'Can we get an invoice copy for October?',
] as const

export const TAGS = [
  'billing',
  'sso',
  'bug',
  'feature-request',
  'outage',
  'onboarding',
  'api',
  'export',
  'mobile',
  'security',
] as const
export const CATEGORIES = ['Bug', 'Question', 'Feature Request', 'Incident', 'Billing'] as const
export const URGENCIES = ['High', 'Medium', 'Low'] as const
export const SENTIMENTS = ['Positive', 'Neutral', 'Negative'] as const
export const STATUSES = ['OPEN', 'ASSIGNED', 'ON_HOLD', 'CLOSED', 'CONVERTED_TO_TICKET'] as const
export const SOURCES = ['AI', 'MANUAL'] as const
export const EVALUATED_STATES = ['MET', 'BREACHED', 'PENDING', 'NOT_APPLICABLE'] as const
export const TIMEZONES = [
  ['America/New_York', 'Eastern Standard Time', -18000],
  ['Europe/Berlin', 'Central European Time', 3600],
  ['Asia/Kolkata', 'India Standard Time', 19800],
  ['America/Los_Angeles', 'Pacific Standard Time', -28800],
  ['Asia/Tokyo', 'Japan Standard Time', 32400],
] as const

export const CUSTOM_FIELD_CATEGORIES = [
  {
    category_name: 'Product Area',
    field_type: 'single_select',
    options: ['Dashboard', 'API', 'Billing', 'Mobile'],
  },
  {
    category_name: 'Customer Tier',
    field_type: 'single_select',
    options: ['Free', 'Pro', 'Enterprise'],
  },
  { category_name: 'Affected Regions', field_type: 'multi_select', options: ['EU', 'US', 'APAC'] },
  { category_name: 'Jira Key', field_type: 'text', options: [] },
  { category_name: 'Renewal Date', field_type: 'date', options: [] },
] as const

export const SUB_STATUSES = [
  {
    name: 'Waiting on customer',
    parent_status: 'ON_HOLD',
    description: 'Blocked until the customer replies',
  },
  {
    name: 'Waiting on engineering',
    parent_status: 'ON_HOLD',
    description: 'Escalated to the product team',
  },
  { name: 'In progress', parent_status: 'ASSIGNED', description: 'Someone is working on it' },
  { name: 'Triage', parent_status: 'OPEN', description: 'Not looked at yet' },
  { name: 'Resolved', parent_status: 'CLOSED', description: 'Fixed or answered' },
  { name: "Won't fix", parent_status: 'CLOSED', description: 'Closed without a change' },
] as const
