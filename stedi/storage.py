"""Where bytes live: local folders and S3 (or an S3-compatible store such as MinIO).

Credentials and endpoints are found the AWS way (environment, `AWS_PROFILE` or a given
profile, `AWS_ENDPOINT_URL` or a given endpoint), through boto3, whose client retries
throttling, 5xx answers and dropped connections with backoff; delta-rs gets the same
credentials as storage options. Errors become one line that names the bucket or object
and never a secret.
"""

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from stedi.errors import StediError

RETRY_ATTEMPTS = 8
FETCH_ATTEMPTS = 4
# delta-rs's own client: how long one request and all retries of it may take.
DELTA_TIMEOUTS = {
    "timeout": "30s",
    "connect_timeout": "10s",
    "max_retries": "8",
    "retry_timeout": "30s",
}
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")
ACCESS_ERRORS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AuthorizationHeaderMalformed",
}
MISSING_BUCKET_ERRORS = frozenset({"NoSuchBucket", "404"})
MISSING_KEY_ERRORS = frozenset({"NoSuchKey"})
PRECONDITION_ERRORS = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
    " or AWS_PROFILE or --profile"
)


class S3Error(StediError):
    """S3 refused or could not answer a request, after retries."""


class _Dropped(S3Error):
    """The connection dropped while S3 sent an object: worth asking again."""


def is_s3(location: str | Path) -> bool:
    """Whether `location` is an S3 URI; raises `S3Error` for any other URI (`S3://`, `gs://`)."""
    text = str(location)
    if text.startswith("s3://"):
        return True
    if SCHEME.match(text):
        msg = f"unsupported location {text}: give a local folder or s3://bucket/prefix"
        raise S3Error(msg)
    return False


def split_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` as ("bucket", "some/prefix")."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        msg = f"an S3 location needs a bucket: {uri} (s3://bucket/prefix)"
        raise S3Error(msg)
    if "//" in prefix.strip("/"):
        msg = f"an S3 location may not have an empty path segment (//): {uri}"
        raise S3Error(msg)
    return bucket, prefix.strip("/")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    modified_ns: int


class S3:
    """A connection to S3 with the given (or the environment's) profile and endpoint."""

    def __init__(self, *, profile: str | None = None, endpoint_url: str | None = None):
        self.profile = profile
        self.endpoint_url = endpoint_url
        self._client = None
        self._session = None

    @property
    def client(self):
        if self._client is None:
            import boto3  # only S3 locations need it; it adds to start-up
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError

            if self.endpoint_url:
                _check_endpoint(self.endpoint_url)
            try:
                self._session = boto3.Session(profile_name=self.profile)
                self._client = self._session.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    config=Config(
                        retries={"max_attempts": RETRY_ATTEMPTS, "mode": "standard"},
                        connect_timeout=10,
                        read_timeout=60,
                    ),
                )
            except (BotoCoreError, ValueError) as err:
                raise S3Error(f"cannot set up S3: {_one_line(err)}") from err
            _check_endpoint(self._client.meta.endpoint_url)
        return self._client

    def storage_options(self) -> dict[str, str]:
        """The options delta-rs needs to reach the same S3 with the same credentials."""
        client = self.client
        credentials = self._session.get_credentials()
        if credentials is None:
            raise S3Error(NO_CREDENTIALS)
        frozen = credentials.get_frozen_credentials()
        options = {
            "AWS_ACCESS_KEY_ID": frozen.access_key,
            "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
            "AWS_REGION": client.meta.region_name or "us-east-1",
            # Commits are conditional puts (If-None-Match): two writers cannot both win.
            "aws_conditional_put": "etag",
            **DELTA_TIMEOUTS,
        }
        if frozen.token:
            options["AWS_SESSION_TOKEN"] = frozen.token
        endpoint = client.meta.endpoint_url
        if _custom(endpoint):
            options["AWS_ENDPOINT_URL"] = endpoint
            options["AWS_ALLOW_HTTP"] = "true" if endpoint.startswith("http://") else "false"
        return options

    def list(self, uri: str) -> Iterator[S3Object]:
        """Every object under the prefix of `uri`, page by page (1,000 keys a page)."""
        bucket, prefix = split_s3(uri)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield S3Object(
                        item["Key"],
                        item["Size"],
                        item["ETag"].strip('"'),
                        int(item["LastModified"].timestamp() * 1_000_000_000),
                    )
        except Exception as err:
            raise s3_error(uri, err) from err

    def open(self, bucket: str, key: str) -> BinaryIO:
        """The object's body, a stream read as it is consumed."""
        uri = f"s3://{bucket}/{key}"
        return self._request(uri, lambda: self.client.get_object(Bucket=bucket, Key=key))["Body"]

    def download(self, bucket: str, key: str) -> bytes:
        """The whole object; a connection that drops while it is sent is retried."""
        for attempt in range(1, FETCH_ATTEMPTS):
            try:
                return self._download_once(bucket, key)
            except _Dropped:
                time.sleep(0.5 * 2**attempt)
        return self._download_once(bucket, key)

    def _download_once(self, bucket: str, key: str) -> bytes:
        body = self.open(bucket, key)  # boto3 retries the request itself
        try:
            with body:
                return body.read()
        except Exception as err:
            error = s3_error(f"s3://{bucket}/{key}", err)
            raise (_Dropped(str(error)) if isinstance(error, S3Error) else error) from err

    def read(self, bucket: str, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None if there is no such object."""
        uri = f"s3://{bucket}/{key}"
        answer = self._request(
            uri, lambda: self.client.get_object(Bucket=bucket, Key=key), ok=MISSING_KEY_ERRORS
        )
        return None if answer is None else (answer["Body"].read(), answer["ETag"])

    def create(self, bucket: str, key: str, data: bytes) -> bool:
        """Write the object only if it does not exist yet; False if it does."""
        answer = self._request(
            f"s3://{bucket}/{key}",
            lambda: self.client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*"),
            ok=PRECONDITION_ERRORS,
        )
        return answer is not None

    def replace(self, bucket: str, key: str, data: bytes, etag: str) -> bool:
        """Overwrite the object only if it is still the version `etag`; False otherwise."""
        answer = self._request(
            f"s3://{bucket}/{key}",
            lambda: self.client.put_object(Bucket=bucket, Key=key, Body=data, IfMatch=etag),
            ok=PRECONDITION_ERRORS | MISSING_KEY_ERRORS,
        )
        return answer is not None

    def delete(self, bucket: str, key: str, etag: str | None = None) -> None:
        """Delete the object (only if it is still the version `etag`, when given)."""
        condition = {"IfMatch": etag} if etag else {}
        self._request(
            f"s3://{bucket}/{key}",
            lambda: self.client.delete_object(Bucket=bucket, Key=key, **condition),
            ok=PRECONDITION_ERRORS | MISSING_KEY_ERRORS,
        )

    def check_bucket(self, uri: str) -> None:
        """Raise `S3Error` unless the bucket of `uri` exists and these credentials reach it."""
        bucket, _ = split_s3(uri)
        self._request(uri, lambda: self.client.head_bucket(Bucket=bucket))

    def _request(self, uri: str, call, *, ok: frozenset[str] = frozenset()):
        """The answer of `call()`; None for an error whose code is in `ok`."""
        from botocore.exceptions import ClientError

        try:
            return call()
        except ClientError as err:
            if _code(err) in ok:
                return None
            raise s3_error(uri, err) from err
        except Exception as err:
            raise s3_error(uri, err) from err


def _code(err) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def s3_error(uri: str, err: Exception) -> Exception:
    """A one-line `S3Error` for a boto3 or connection error about `uri`; other errors as
    they are."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if isinstance(err, S3Error):
        return err
    if isinstance(err, NoCredentialsError):
        return S3Error(NO_CREDENTIALS)
    if isinstance(err, BotoCoreError | OSError) or type(err).__module__.startswith("urllib3"):
        return S3Error(f"S3 request for {uri} failed: {_one_line(err)}")
    if not isinstance(err, ClientError):
        return err
    code = _code(err)
    if code in MISSING_BUCKET_ERRORS:
        return S3Error(f"S3 bucket not found: {split_s3(uri)[0]} (for {uri})")
    if code in ACCESS_ERRORS or code == "403":
        return S3Error(
            f"S3 refused access to {uri} ({code}): check the credentials"
            " (AWS_ACCESS_KEY_ID, AWS_PROFILE or --profile) and their permissions"
        )
    retries = err.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    after = f" after {retries} retries" if retries else ""
    return S3Error(f"S3 request for {uri} failed{after}: {_one_line(err)}")


def _check_endpoint(url: str) -> None:
    """Raise `S3Error` for an endpoint URL that is not http(s)://host[:port]."""
    try:
        parsed = urlparse(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.hostname)
        parsed.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        valid = False
    if not valid:
        msg = f"invalid S3 endpoint URL: {url!r} (give http(s)://host[:port])"
        raise S3Error(msg)


def _custom(endpoint: str) -> bool:
    return not endpoint.endswith(".amazonaws.com") and "amazonaws.com/" not in endpoint


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


class LocalStore:
    """Small objects of a lake in a local folder: conditional create, replace and delete."""

    def __init__(self, root: Path):
        self.root = root

    def create(self, name: str, data: bytes, mode: int = 0o644) -> bool:
        """Create the file with `data` unless it exists: written in full under another name
        first, then linked into place, so that no one ever reads it half written (a full
        disk leaves no empty lock or key behind)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.link(draft, path)
        except FileExistsError:
            return False
        finally:
            draft.unlink(missing_ok=True)
        return True

    def read(self, name: str) -> tuple[bytes, str] | None:
        try:
            data = (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        return data, data.hex()

    def replace(self, name: str, data: bytes, version: str) -> bool:
        """Replace the file only if it still holds `version` (moved aside, then checked)."""
        path = self.root / name
        aside = path.with_name(f"{path.name}.aside-{os.getpid()}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return self.create(name, data)
        if aside.read_bytes().hex() != version:
            os.rename(aside, path)
            return False
        aside.unlink()
        return self.create(name, data)

    def delete(self, name: str, version: str | None = None) -> None:
        current = self.read(name)
        if current and (version is None or current[1] == version):
            (self.root / name).unlink(missing_ok=True)

    def is_empty(self) -> bool:
        return not self.root.is_dir() or not any(self.root.iterdir())

    def check_writable(self) -> None:
        (self.root / "_system").mkdir(parents=True, exist_ok=True)
        probe = self.root / "_system" / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()


class S3Store:
    """Small objects of a lake under an S3 prefix, with S3's conditional writes."""

    def __init__(self, s3: S3, uri: str):
        self.s3, self.uri = s3, uri
        self.bucket, self.prefix = split_s3(uri)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def create(self, name: str, data: bytes, mode: int = 0o644) -> bool:
        return self.s3.create(self.bucket, self._key(name), data)

    def read(self, name: str) -> tuple[bytes, str] | None:
        return self.s3.read(self.bucket, self._key(name))

    def replace(self, name: str, data: bytes, version: str) -> bool:
        return self.s3.replace(self.bucket, self._key(name), data, version)

    def delete(self, name: str, version: str | None = None) -> None:
        self.s3.delete(self.bucket, self._key(name), version)

    def is_empty(self) -> bool:
        return next(self.s3.list(self.uri), None) is None

    def check_writable(self) -> None:
        self.s3.check_bucket(self.uri)
