"""schemathesis hooks for .ci/clients: the bytes of a resumable (tus) upload.

schemathesis has no serializer for application/offset+octet-stream, the media type tus 1.0 gives a
PATCH's bytes; without one it cannot send PATCH /api/v1/uploads/{id} at all. The body is raw
bytes, as for application/octet-stream.
"""

import schemathesis


@schemathesis.serializer("application/offset+octet-stream")
def offset_octets(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode()
