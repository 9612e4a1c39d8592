/**
 * Seed 002's RAG texts (SEEDS-SPEC §3.7; note the full-width commas), then ours for cases the
 * seed's external service handled out of sight. Clients match on the seed's texts.
 */
export const RAG_MESSAGES = {
  invalidParams: '无效的请求参数',
  missingKbId: '缺少知识库 ID',
  missingKbIdParam: '缺少知识库 ID 参数',
  noFile: '未上传文件',
  unauthorized: '未授权',
  kbCreated: (model: string) => `知识库创建成功，使用模型: ${model}`,
  kbListed: '知识库列表获取成功',
  kbDeleted: '知识库删除成功',
  docUploaded: (chunks: number) => `文档上传处理成功，共分割并添加 ${String(chunks)} 个文本块`,
  docListed: '文档列表获取成功',
  docDeleted: '文档删除成功',
  retrieved: '检索成功',
  modelsListed: '支持的Embedding模型列表获取成功',
  nothingFound: '知识库中未找到相关信息',
  promptFailedPrefix: '生成提示失败',
  unsupportedType: (extension: string) => `不支持的文件类型: ${extension}`,
  // Ours (the seed's service is not in the repo).
  kbNotFound: '知识库不存在',
  docNotFound: '文档不存在',
  unknownModel: (model: string) => `不支持的嵌入模型: ${model}`,
  contentMismatch: (extension: string) => `文件内容与扩展名不符: ${extension}`,
  emptyFile: '文件为空',
  noText: '文档中没有可提取的文本',
  tooManyChunks: (limit: number) => `文档过大: 超过 ${String(limit)} 个文本块`,
  fileTooLarge: (limit: number) => `文件过大: 上限为 ${String(limit)} 字节`,
  bodyTooLarge: (limit: number) => `请求体过大: 上限为 ${String(limit)} 字节`,
  fieldTooLarge: '表单字段过大',
  tooManyParts: '表单部分过多',
  badBoundary: '无效的 multipart 边界',
  notFound: '404 page not found',
} as const;

/** The seed's 500 prefixes per endpoint (SEEDS-SPEC §3.7 "Common errors"). */
export const ERROR_PREFIXES = {
  createKb: '创建知识库失败',
  listKbs: '获取知识库列表失败',
  upload: '上传文档失败',
  retrieve: '检索信息失败',
  models: '获取嵌入模型列表失败',
  listDocs: '获取文档列表失败',
  deleteKb: '删除知识库失败',
  deleteDoc: '删除文档失败',
} as const;
