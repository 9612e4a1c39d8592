/**
 * A small handbook and paraphrased questions about it (the questions avoid the sections' own
 * words where English allows), for retrieval-quality tests and the bench's recall@5.
 */
export const HANDBOOK = `# Staff handbook

## Annual leave
Employees receive twenty-five days of paid holiday per year. Unused days may be carried into the first quarter of the following year with a manager's approval.

## Sick days
If you are ill, tell your team lead before ten in the morning. A doctor's note is needed after three consecutive days away.

## Account recovery
If you cannot sign in, open the reset link that is emailed to you. Links expire after one hour, so request a new one if it has lapsed.

## Travel expenses
Train tickets, hotel rooms and meals on business trips are reimbursed. Submit receipts in the finance portal within thirty days of returning.

## Parking
The garage under building B has two hundred spaces. Permits are issued by reception and must be displayed on the dashboard.

## Remote work
Staff may work from home up to three days a week. Agree your schedule with your manager and keep your calendar up to date.

## Security badges
Your badge opens doors between seven in the morning and eight at night. Report a lost badge to the front desk immediately so it can be disabled.

## Laptop support
For a broken computer, file a ticket with the IT helpdesk. Replacement machines are usually delivered within two working days.

## Pension plan
The company adds five percent of salary to your retirement savings. Contributions start after the probation period ends.

## Fire safety
When the alarm sounds, leave by the nearest stairway and gather at the assembly point in the car park. Never use the elevators during an evacuation.

## Kitchen rules
Label food you keep in the fridge with your name and date. The fridge is emptied every Friday afternoon.

## Learning budget
Each employee may spend one thousand euros a year on courses, books and conferences related to their role.
`;

/** Paraphrased question → the heading of the section that answers it. */
export const QUESTIONS: readonly (readonly [string, string])[] = [
  ['How many vacation days do workers get each year?', 'Annual leave'],
  ['What should I do when I forget my password?', 'Account recovery'],
  ['Who pays for my hotel when I travel for the company?', 'Travel expenses'],
  ['Where can I leave my car?', 'Parking'],
  ['Can I do my job from my house?', 'Remote work'],
  ['I lost my access card, what now?', 'Security badges'],
  ['My notebook computer stopped working', 'Laptop support'],
  ['Does the employer contribute to retirement?', 'Pension plan'],
  ['What happens when there is a fire alarm?', 'Fire safety'],
  ['Can I store my lunch in the refrigerator?', 'Kitchen rules'],
  ['Is there money for training and education?', 'Learning budget'],
  ['What if I feel unwell and cannot come to work?', 'Sick days'],
];

/** Chinese passages: found through the CJK bigram lexical index (GloVe has no Chinese words). */
export const CHINESE_DOC = `# 员工手册

## 年假
员工每年享有二十五天带薪年假。未使用的假期经经理批准可顺延至次年第一季度。

## 报销
出差期间的火车票、酒店和餐费可以报销。请在返回后三十天内在财务系统提交发票。

## 停车
B 栋地下车库共有两百个车位。停车证由前台发放。
`;

export const CHINESE_QUESTIONS: readonly (readonly [string, string])[] = [
  ['出差的酒店费用怎么报销？', '报销'],
  ['每年有几天年假？', '年假'],
  ['车库有多少车位？', '停车'],
];
