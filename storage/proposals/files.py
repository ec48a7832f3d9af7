"""Files attached to a proposal: by its proposer, before it is submitted; read by anyone
who may see the proposal.

The content goes to the file store (`storage.files`), the database keeps name, size,
type and SHA-256. Types are the documents and pictures a proposal needs; anything else
(an executable, an archive) is refused, as is a file over the size limit.
"""

from __future__ import annotations

import mimetypes

from sqlalchemy import Select, func, select

from storage import audit
from storage.clock import utcnow
from storage.errors import ProposalError
from storage.files import FileStore
from storage.models import Proposal, ProposalFile
from storage.proposals.queries import Viewer, get_visible
from storage.proposals.service import check_editable
from storage.store import Store

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


def type_of(name: str, declared: str) -> str:
    """The file's type: what the platform said, or (when it said nothing useful) what
    its name says."""
    if declared and declared != "application/octet-stream":
        return declared.split(";", 1)[0].strip().lower()
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


async def attach(
    store: Store,
    files: FileStore,
    proposal: Proposal,
    staff_id: int,
    *,
    name: str,
    mime_type: str,
    content: bytes,
) -> ProposalFile:
    """Attach a file to one's own proposal before it is submitted. Refuses someone else's
    proposal, a submitted one, a type that is not a document or picture, a file over
    MAX_BYTES, and more than MAX_FILES files."""
    check_editable(proposal, staff_id)
    kind = type_of(name, mime_type)
    if kind not in TYPES:
        raise ProposalError("proposals.error.file_type", name=name[:100], type=kind)
    if len(content) > MAX_BYTES:
        raise ProposalError("proposals.error.file_size", name=name[:100], mb=MAX_BYTES >> 20)
    count = await store.session.scalar(
        select(func.count())
        .select_from(ProposalFile)
        .where(ProposalFile.proposal_id == proposal.id)
    )
    if (count or 0) >= MAX_FILES:
        raise ProposalError("proposals.error.file_count", id=proposal.id, max=MAX_FILES)
    row = ProposalFile(
        proposal_id=proposal.id,
        name=name[:200] or "file",
        size=len(content),
        mime_type=kind[:100],
        sha256=files.put(content),
        uploaded_by=staff_id,
        created_at=utcnow(),
    )
    store.session.add(row)
    await store.session.flush()
    await audit.record(
        store, "proposal.attach", "proposal", proposal.id, file=row.id, size=row.size
    )
    return row


async def files_of(
    store: Store, proposal_ids: list[int] | Select[int]
) -> dict[int, list[ProposalFile]]:
    """The files of these proposals (ids, or a query of them), in the order attached."""
    found: dict[int, list[ProposalFile]] = {}
    if isinstance(proposal_ids, list) and not proposal_ids:
        return found
    rows = await store.session.scalars(
        select(ProposalFile)
        .where(ProposalFile.proposal_id.in_(proposal_ids))
        .order_by(ProposalFile.id)
    )
    for row in rows:
        found.setdefault(row.proposal_id, []).append(row)
    return found


async def read(
    store: Store, files: FileStore, viewer: Viewer, proposal_id: int, number: int
) -> tuple[ProposalFile, bytes]:
    """The n-th file of a proposal the viewer may see. Refuses one that does not exist."""
    await get_visible(store, viewer, proposal_id)
    found = (await files_of(store, [proposal_id])).get(proposal_id, [])
    if not 1 <= number <= len(found):
        raise ProposalError("proposals.error.no_file", id=proposal_id, n=number)
    row = found[number - 1]
    return row, files.get(row.sha256)
