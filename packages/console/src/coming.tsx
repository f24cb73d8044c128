/** A page the console will have: what it will show, and where the same information is meanwhile. */
import type { Page } from './pages.ts'

export function Coming({ page }: { page: Page & { coming: NonNullable<Page['coming']> } }) {
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        {page.title}
      </h1>
      <p class="notice">This page is coming in a later version of the console.</p>
      <p>{page.coming.what}</p>
      <h2>Meanwhile</h2>
      <ul class="plain">
        {page.coming.meanwhile.map((m) => (
          <li key={m}>
            <code>{m}</code>
          </li>
        ))}
      </ul>
    </>
  )
}
