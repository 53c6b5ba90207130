"""The video job errors a person can see, each an `AppError` with a code, status and message."""

from clonechats.errors import AppError, Conflict, NotFound


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "That message does not exist."


class VideoJobNotFound(NotFound):
    code = "video_job_not_found"
    message = "That video does not exist."


class NotPersonaMessage(AppError):
    code = "not_persona_message"
    status = 422
    message = "Only the persona's replies can become a video, not your own messages."


class NotVideoable(AppError):
    code = "not_videoable"
    status = 422
    message = "Only a persona's finished replies can become a video."


class NoFaceImage(AppError):
    code = "no_face_image"
    status = 422
    message = ("The persona needs an avatar or reference image with a face before it can reply "
               "as video. Upload a clear, front-facing picture of a face.")


class VideoInputRefused(AppError):
    """The persona's image cannot be animated (too small, unreadable); `code` says why."""

    status = 422


class VideoJobRunning(Conflict):
    code = "video_job_running"
    message = ("A video is already being made for you. Wait for it to finish, or cancel it, "
               "before asking for another.")


class VideoQuotaExceeded(AppError):
    code = "video_quota_exceeded"
    status = 402


class VideoJobFinished(Conflict):
    code = "video_job_finished"
    message = "This video is already finished, so it cannot be cancelled."
