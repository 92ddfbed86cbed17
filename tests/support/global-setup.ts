// Placeholder: replaced by the throwaway-Postgres global setup.
export default function setup(): void {}
