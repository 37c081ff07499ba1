import { EmptyState, PageHeader } from "../components/ui";
import { homePath } from "../models/session";
import { Link } from "../router";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="Nothing lives at this address"
        action={<Link href={homePath()}>Go to your home page</Link>}
      />
    </>
  );
}
