/**
 * The RAG bench's retrieval set: short passages, each with a question that paraphrases it (few
 * shared words), and a generator of distractor passages to grow the KB to 10k/100k chunks.
 */
export const FACTS: readonly { readonly passage: string; readonly question: string }[] = [
  { passage: 'Employees receive twenty-five days of paid holiday every year; unused days expire in March.', question: 'How much vacation time do workers get annually?' },
  { passage: 'If you cannot sign in, open the reset link emailed to you; it expires after one hour.', question: 'I forgot my password, what should I do?' },
  { passage: 'Hotel rooms, train tickets and meals on business trips are reimbursed within thirty days.', question: 'Will the company pay back my travel costs?' },
  { passage: 'The garage under building B has two hundred spaces; permits come from reception.', question: 'Where can I leave my car at the office?' },
  { passage: 'Staff may work from home up to three days a week after agreeing a schedule with their manager.', question: 'Am I allowed to do my job remotely from my house?' },
  { passage: 'Report a lost badge to the front desk immediately so that it can be disabled.', question: 'My access card went missing, who do I tell?' },
  { passage: 'A broken laptop is replaced by the IT helpdesk within two working days of the ticket.', question: 'My notebook computer stopped working, how long until I get another?' },
  { passage: 'The company adds five percent of salary to the pension fund once probation ends.', question: 'Does my employer contribute to retirement savings?' },
  { passage: 'When the alarm sounds, leave by the stairs and gather at the assembly point; never take the elevator.', question: 'What do I do during a fire evacuation?' },
  { passage: 'Food left in the fridge must carry a name and date; the fridge is cleared every Friday.', question: 'Can I keep my lunch in the refrigerator?' },
  { passage: 'Each employee may spend one thousand euros a year on courses, books and conferences.', question: 'Is there a budget for training and education?' },
  { passage: 'If you are ill, tell your team lead before ten; a doctor note is needed after three days.', question: 'What if I feel sick and cannot come in?' },
  { passage: 'The cafeteria serves breakfast from seven thirty and lunch between noon and two.', question: 'When can I eat in the canteen?' },
  { passage: 'Parents receive sixteen weeks of paid leave after the birth or adoption of a child.', question: 'How long is maternity and paternity leave?' },
  { passage: 'Bicycles can be stored in the locked shed behind the main entrance, and showers are on floor one.', question: 'Is there somewhere safe to put my bike?' },
  { passage: 'Salaries are paid on the twenty-fifth of each month by bank transfer.', question: 'On what date do we get our wages?' },
  { passage: 'Visitors must be registered in advance and collected from the lobby by their host.', question: 'How do I bring a guest into the building?' },
  { passage: 'The quarterly all-hands meeting takes place in the auditorium and is streamed online.', question: 'Where is the company-wide assembly held?' },
  { passage: 'Overtime is compensated with time off in lieu, agreed in writing beforehand.', question: 'Do I get anything for working extra hours?' },
  { passage: 'Expense claims above five hundred euros need approval from a department director.', question: 'Who must sign off on a large reimbursement request?' },
  { passage: 'The office is closed on public holidays and between Christmas and New Year.', question: 'Is the workplace open during the winter festive break?' },
  { passage: 'New starters get a mentor for their first three months to help them settle in.', question: 'Will someone guide me when I join?' },
  { passage: 'Company phones may be used privately within reasonable limits; roaming costs are paid by the user.', question: 'Can I make personal calls on my work mobile?' },
  { passage: 'Printers on every floor release jobs only when you tap your badge on the reader.', question: 'How do I collect my printouts?' },
  { passage: 'Annual performance reviews happen in November and set goals for the next year.', question: 'When are staff appraisals done?' },
];

const SUBJECTS = ['the committee', 'the regional team', 'our supplier', 'the audit group', 'the board', 'the project office', 'the logistics unit', 'the research lab', 'the marketing desk', 'the legal department'];
const VERBS = ['reviewed', 'postponed', 'approved', 'discussed', 'summarised', 'questioned', 'documented', 'extended', 'revised', 'published'];
const OBJECTS = ['the quarterly forecast', 'the shipping schedule', 'the product roadmap', 'the vendor contract', 'the hiring plan', 'the risk register', 'the energy report', 'the pricing model', 'the customer survey', 'the compliance checklist', 'the warehouse inventory', 'the software release', 'the training calendar', 'the sales pipeline', 'the network upgrade'];
const DETAILS = ['after a long debate', 'with minor changes', 'ahead of the deadline', 'despite several objections', 'for the third time', 'in a short memo', 'during the afternoon session', 'with input from partners', 'pending further data', 'without any comment'];

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same corpus. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** A distractor paragraph of about `chars` characters (several generated sentences). */
export function distractorParagraph(random: () => number, chars: number): string {
  const sentences: string[] = [];
  let length = 0;
  while (length < chars) {
    const sentence = `${pick(random, SUBJECTS)} ${pick(random, VERBS)} ${pick(random, OBJECTS)} ${pick(random, DETAILS)}.`;
    const text = sentence.charAt(0).toUpperCase() + sentence.slice(1);
    if (length + text.length + 1 > chars && sentences.length > 0) break;
    sentences.push(text);
    length += text.length + 1;
  }
  return sentences.join(' ');
}
