"""Cases (工单) and their 接诉即办 lifecycle: accept, dispatch, handle, rate, close."""
