// Placeholder: replaced by the shared test database setup.
export default async function setup(): Promise<void> {}
