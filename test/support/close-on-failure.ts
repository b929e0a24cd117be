/**
 * Finishes a fixture's set-up over something it has already opened; when
 * `rest` fails, closes that first, so a failed set-up leaves no server or
 * connection keeping the test process alive.
 */
export async function closeOnFailure<T>(
  close: () => Promise<void>,
  rest: () => Promise<T>,
): Promise<T> {
  try {
    return await rest();
  } catch (error) {
    await close();
    throw error;
  }
}
