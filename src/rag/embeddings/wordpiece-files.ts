/** Special tokens, in the ids the embedding table reserves for them (all-zero rows). */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

/**
 * Inflection pieces (zero vectors) so WordPiece reads an unknown "resetting" as "reset" + "##ting"
 * instead of one [UNK]: a cheap stemmer for words outside the vocabulary.
 */
export const SUFFIX_PIECES = ['s', 'es', 'ed', 'd', 'ing', 'ting', 'ning', 'ly', 'er', 'ers', 'ies', 'ation', 'ations', 'ment', 'ments', 'ness'] as const;

const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const token = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });

/** tokenizer.json (HF tokenizers format) of an uncased BERT WordPiece tokenizer over `vocab`. */
export function tokenizerJson(vocab: Readonly<Record<string, number>>): string {
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => special(content, id)),
    // handle_chinese_chars splits Han characters into single tokens; GloVe 6B has none, so they are [UNK].
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [token('[CLS]', 0), sequence('A', 0), token('[SEP]', 0)],
      pair: [token('[CLS]', 0), sequence('A', 0), token('[SEP]', 0), sequence('B', 1), token('[SEP]', 1)],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

/** tokenizer_config.json: a long model_max_length, since a Gather model has no position limit. */
export function tokenizerConfigJson(): string {
  return JSON.stringify({ tokenizer_class: 'BertTokenizer', model_max_length: 8192, do_lower_case: true, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]' });
}

export function modelConfigJson(dimensions: number): string {
  return JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: dimensions });
}
