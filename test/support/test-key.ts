/** The gateway key test apps accept unless a test sets its own (no imports: bench scripts use it too). */
export const TEST_KEY = 'sk-test-gateway-key';
