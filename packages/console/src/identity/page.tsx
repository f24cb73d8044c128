export function IdentityPage(_: { token: string | null; onUnauthorized: (m: string) => void }) {
  return (
    <h1 id="page-title" tabIndex={-1}>
      Identity
    </h1>
  )
}
